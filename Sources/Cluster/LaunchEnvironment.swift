/// Where a process launched by Slurm (`srun`) or a torchrun-style launcher (Kubernetes
/// Indexed Jobs, for example) finds the coordinator and the world size, from its environment.
///
/// torchrun: `MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`.
/// Slurm: `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_JOB_NODELIST` (or `SLURM_NODELIST`), whose
/// first host runs the coordinator on `RINGTRAIN_COORDINATOR_PORT` (default 29500), and
/// `SLURM_JOB_ID`, which keys the run directory. torchrun's variables win when both are set.
public struct LaunchEnvironment: Equatable, Sendable {
    public static let defaultPort = 29500

    public var coordinator: String?
    public var rank: Int?
    public var worldSize: Int?
    public var jobID: String?

    public init(_ env: [String: String]) throws {
        let port = try env["RINGTRAIN_COORDINATOR_PORT"].map { try Self.port($0, "RINGTRAIN_COORDINATOR_PORT") } ?? Self.defaultPort
        if let addr = env["MASTER_ADDR"], !addr.isEmpty {
            let p = try env["MASTER_PORT"].map { try Self.port($0, "MASTER_PORT") } ?? Self.defaultPort
            coordinator = "\(addr):\(p)"
        } else if let list = env["SLURM_JOB_NODELIST"] ?? env["SLURM_NODELIST"], !list.isEmpty {
            guard let first = try Self.expandNodeList(list).first else {
                throw ClusterError("SLURM_JOB_NODELIST '\(list)' names no host", exitCode: 2)
            }
            coordinator = "\(first):\(port)"
        }
        rank = try (env["RANK"] ?? env["SLURM_PROCID"]).map { try Self.number($0, env["RANK"] != nil ? "RANK" : "SLURM_PROCID") }
        worldSize = try (env["WORLD_SIZE"] ?? env["SLURM_NTASKS"]).map {
            try Self.number($0, env["WORLD_SIZE"] != nil ? "WORLD_SIZE" : "SLURM_NTASKS")
        }
        jobID = env["SLURM_JOB_ID"]
    }

    static func port(_ text: String, _ name: String) throws -> Int {
        guard let p = Int(text), (1...65535).contains(p) else {
            throw ClusterError("\(name)='\(text)' is not a port number", exitCode: 2)
        }
        return p
    }

    static func number(_ text: String, _ name: String) throws -> Int {
        guard let n = Int(text), n >= 0 else { throw ClusterError("\(name)='\(text)' is not a number", exitCode: 2) }
        return n
    }

    /// Expands Slurm's compressed host list without asking Slurm or DNS:
    /// `node[01-03,07],gpu5` -> node01 node02 node03 node07 gpu5 (zero padding kept).
    public static func expandNodeList(_ list: String) throws -> [String] {
        var hosts: [String] = []
        var i = list.startIndex
        while i < list.endIndex {
            // One entry: a prefix, optionally one bracketed range set, optionally a suffix.
            var prefix = ""
            while i < list.endIndex, list[i] != ",", list[i] != "[" { prefix.append(list[i]); i = list.index(after: i) }
            if i < list.endIndex, list[i] == "[" {
                guard let close = list[i...].firstIndex(of: "]") else {
                    throw ClusterError("node list '\(list)': unclosed '['", exitCode: 2)
                }
                let ranges = list[list.index(after: i)..<close]
                i = list.index(after: close)
                var suffix = ""
                while i < list.endIndex, list[i] != "," { suffix.append(list[i]); i = list.index(after: i) }
                for part in ranges.split(separator: ",") {
                    let bounds = part.split(separator: "-", maxSplits: 1).map(String.init)
                    guard let lo = Int(bounds[0]), let hi = Int(bounds.count == 2 ? bounds[1] : bounds[0]), lo <= hi else {
                        throw ClusterError("node list '\(list)': bad range '\(part)'", exitCode: 2)
                    }
                    let width = bounds[0].count
                    for n in lo...hi {
                        let digits = String(n)
                        hosts.append(prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits + suffix)
                    }
                }
            } else if !prefix.isEmpty {
                hosts.append(prefix)
            }
            if i < list.endIndex, list[i] == "," { i = list.index(after: i) }
        }
        return hosts
    }
}
