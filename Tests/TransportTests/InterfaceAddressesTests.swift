import Transport
import XCTest

final class InterfaceAddressesTests: XCTestCase {
    func testLoopbackByInterfaceAndBySubnet() throws {
        XCTAssertTrue(InterfaceAddresses.all().contains { $0.interface == "lo" && $0.address == "127.0.0.1" })
        XCTAssertEqual(try InterfaceAddresses.address(ofInterface: "lo"), "127.0.0.1")
        XCTAssertEqual(try InterfaceAddresses.address(inSubnet: "127.0.0.0/8"), "127.0.0.1")
    }

    func testUnknownInterfaceOrSubnetListsWhatThereIs() throws {
        XCTAssertThrowsError(try InterfaceAddresses.address(ofInterface: "nope0")) {
            XCTAssertTrue("\($0)".contains("nope0") && "\($0)".contains("lo 127.0.0.1"), "\($0)")
        }
        // A documentation subnet this host has no address in (some VMs do use TEST-NET-1).
        let mine = InterfaceAddresses.all().map(\.address)
        let candidates = ["203.0.113", "198.51.100", "192.0.2"]
        let free = try XCTUnwrap(candidates.first { c in !mine.contains { $0.hasPrefix(c + ".") } })
        XCTAssertThrowsError(try InterfaceAddresses.address(inSubnet: free + ".0/24")) {
            XCTAssertTrue("\($0)".contains(free + ".0/24"), "\($0)")
        }
        XCTAssertThrowsError(try InterfaceAddresses.address(inSubnet: "10.0.0.0")) {
            XCTAssertTrue("\($0)".contains("CIDR"), "\($0)")
        }
    }
}
