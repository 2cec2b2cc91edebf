import Glibc

/// The IPv4 addresses of this host's network interfaces (getifaddrs), for choosing the
/// address a worker advertises: `--interface NAME` or `--subnet CIDR`.
public enum InterfaceAddresses {
    public struct Entry: Equatable, Sendable {
        public let interface: String
        public let address: String
    }

    public static func all() -> [Entry] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var out: [Entry] = []
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = p {
            if let sa = entry.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) {
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var a = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &a, &text, socklen_t(INET_ADDRSTRLEN))
                }
                out.append(Entry(interface: String(cString: entry.pointee.ifa_name), address: String(cString: text)))
            }
            p = entry.pointee.ifa_next
        }
        return out
    }

    /// The address of interface `name`; the error lists the interfaces there are.
    public static func address(ofInterface name: String) throws -> String {
        let all = all()
        guard let e = all.first(where: { $0.interface == name }) else {
            let exists = if_nametoindex(name) != 0
            throw AddressChoiceError((exists ? "interface \(name) has no IPv4 address" : "there is no interface \(name)")
                + "; interfaces with one: " + all.map { "\($0.interface) \($0.address)" }.joined(separator: ", "))
        }
        return e.address
    }

    /// The first address inside `cidr` (e.g. "10.20.0.0/16"); the error lists the addresses there are.
    public static func address(inSubnet cidr: String) throws -> String {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits), let net = ipv4(String(parts[0])) else {
            throw AddressChoiceError("subnet '\(cidr)' is not IPv4 CIDR like 10.0.0.0/24")
        }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - UInt32(bits))
        let all = all()
        guard let e = all.first(where: { (ipv4($0.address) ?? 0) & mask == net & mask }) else {
            throw AddressChoiceError("no address of this host is in \(cidr); addresses: "
                + all.map { "\($0.interface) \($0.address)" }.joined(separator: ", "))
        }
        return e.address
    }

    static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }
}

/// `--interface` / `--subnet` cannot give an address; the message lists what there is.
public struct AddressChoiceError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
