import Crypto
import Foundation

/// Training straight from a raw image folder: the folder is prepared into a cache directory on
/// first use and the prepared copy is used from then on; each use re-scans the folder and
/// decodes only files added or changed since (nothing, when it is unchanged).
public enum ImageFolderCache {
    /// `$RINGTRAIN_CACHE`, else `$XDG_CACHE_HOME/ringtrain`, else `~/.cache/ringtrain`.
    public static var defaultRoot: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["RINGTRAIN_CACHE"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/ringtrain" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.cache/ringtrain"
    }

    /// The cache directory of `root` prepared with `settings`: one per (folder, settings), so
    /// two runs with other record sizes never share records.
    public static func directory(root: String, settings: PreparationSettings, cacheRoot: String?) throws -> String {
        let key = try JSONEncoder.sorted.encode(settings)
        let hash = SHA256.hash(data: key).hexString.prefix(16)
        let name = (root as NSString).lastPathComponent.replacingOccurrences(of: " ", with: "_")
        return (cacheRoot ?? defaultRoot) + "/prepared/\(name)-\(hash)"
    }

    public static func load(root directory: String, options: ImageFolderOptions,
                            progress: (@Sendable (PrepareProgress) -> Void)? = nil) throws -> Dataset {
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        let folder = try ImageFolder.scan(root: root)
        let settings = try AutoSettings.resolve(folder: folder, options: options)
        let cache = try self.directory(root: root, settings: settings, cacheRoot: options.cache)
        var run = PrepareRunOptions()
        run.threads = options.threads
        run.waitForLock = true
        run.progress = progress
        let summary = try DatasetPreparer.prepare(source: root, output: cache, options: options, run: run)
        return try PreparedDataset.open(directory: summary.directory).dataset(format: .imageFolder, source: root)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
