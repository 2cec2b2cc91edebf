import XCTest

final class BenchKernelsCommandTests: XCTestCase {
    /// `--openblas` loads a benchmark reference at run time; a path that is not one must stop
    /// the bench before it measures anything, naming the path.
    func testOpenBLASPathThatCannotBeLoadedIsNamed() throws {
        let r = try BinaryRunner.run(["bench", "kernels", "--openblas", "/nonexistent/libopenblas.so"], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--openblas /nonexistent/libopenblas.so: cannot load it"), r.stderr)
        XCTAssertFalse(r.stdout.contains("FMA peak"), r.stdout)
    }
}
