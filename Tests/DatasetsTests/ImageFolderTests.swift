import Foundation
import XCTest
import Datasets
import TestSupport

final class ImageFolderTests: XCTestCase {
    var dirs: [String] = []
    override func tearDown() {
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
        dirs = []
    }

    func temporary() -> String {
        let d = NSTemporaryDirectory() + "ringtrain-folder-\(UUID().uuidString)"
        dirs.append(d)
        return d
    }

    func touch(_ path: String, _ bytes: [UInt8] = [1, 2, 3]) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Classes in code-point order (Python's sorted, torchvision's), edge cases counted.
    func testClassOrderAndWhatIsNotAnImage() throws {
        let root = temporary()
        for name in ["b", "B", "a b", "é", "Z"] { try touch("\(root)/\(name)/1.png") }
        try touch("\(root)/b/Photo.JPG")
        try touch("\(root)/b/x.JpEg")
        try touch("\(root)/b/.hidden.png")
        try touch("\(root)/b/notes.txt")
        try touch("\(root)/.git/config")
        try FileManager.default.createDirectory(atPath: "\(root)/empty", withIntermediateDirectories: true)
        try touch("\(root)/Z/sub/deeper.webp")
        let folder = try ImageFolder.scan(root: root)
        XCTAssertEqual(folder.classNames, ["B", "Z", "a b", "b", "empty", "é"])
        XCTAssertFalse(folder.hasSplitFolders)
        XCTAssertEqual(folder.hiddenCount, 1, "the hidden file inside a class (the hidden .git folder is not a class)")
        XCTAssertEqual(folder.nonImageFiles, ["b/notes.txt"])
        XCTAssertEqual(folder.emptyClassFolders, ["empty"])
        let byClass = Dictionary(grouping: folder.files, by: \.label).mapValues { $0.map(\.relativePath) }
        XCTAssertEqual(byClass[3], ["b/1.png", "b/Photo.JPG", "b/x.JpEg"])
        XCTAssertEqual(byClass[1], ["Z/1.png", "Z/sub/deeper.webp"])
        XCTAssertEqual(byClass[2], ["a b/1.png"])
        XCTAssertEqual(byClass[5], ["é/1.png"])
    }

    func testSplitFoldersAndTheirErrors() throws {
        let root = temporary()
        for split in ["train", "val", "test"] {
            for c in ["cat", "dog"] { try touch("\(root)/\(split)/\(c)/1.png") }
        }
        let folder = try ImageFolder.scan(root: root)
        XCTAssertTrue(folder.hasSplitFolders)
        XCTAssertEqual(folder.classNames, ["cat", "dog"])
        XCTAssertEqual(folder.splits, [.train, .validation, .test])
        XCTAssertEqual(folder.files(of: .validation).map(\.relativePath), ["val/cat/1.png", "val/dog/1.png"])

        try touch("\(root)/test/bird/1.png")
        XCTAssertThrowsError(try ImageFolder.scan(root: root)) { e in
            XCTAssertTrue("\(e)".contains("\(root)/test: class folders"), "\(e)")
            XCTAssertTrue("\(e)".contains("bird"), "\(e)")
        }
        try FileManager.default.removeItem(atPath: "\(root)/test/bird")
        try touch("\(root)/validation/cat/1.png")
        XCTAssertThrowsError(try ImageFolder.scan(root: root)) { XCTAssertTrue("\($0)".contains("both val/ and validation/"), "\($0)") }
    }

    func testFolderErrorsNameTheFolder() throws {
        let one = temporary()
        try touch("\(one)/only/1.png")
        XCTAssertThrowsError(try ImageFolder.scan(root: one)) { XCTAssertTrue("\($0)".contains("only one class (only)"), "\($0)") }
        let none = temporary()
        try touch("\(none)/a/readme.txt")
        try touch("\(none)/b/readme.txt")
        XCTAssertThrowsError(try ImageFolder.scan(root: none)) { XCTAssertTrue("\($0)".contains("no image files"), "\($0)") }
        let flat = temporary()
        try touch("\(flat)/1.png")
        XCTAssertThrowsError(try ImageFolder.scan(root: flat)) { XCTAssertTrue("\($0)".contains("class folders: none found"), "\($0)") }
    }

    /// Class folders may be links (to another disk); a link back up the tree is not walked forever.
    func testSymlinksAreFollowedWithoutLooping() throws {
        let root = temporary(), elsewhere = temporary()
        try touch("\(elsewhere)/far.png")
        try touch("\(root)/a/1.png")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/linked", withDestinationPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: "\(root)/a/loop", withDestinationPath: "\(root)/a")
        let folder = try ImageFolder.scan(root: root)
        XCTAssertEqual(folder.classNames, ["a", "linked"])
        XCTAssertEqual(folder.files.map(\.relativePath), ["a/1.png", "linked/far.png"])
    }
}
