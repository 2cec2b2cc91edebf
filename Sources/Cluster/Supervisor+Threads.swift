import Foundation

extension Supervisor {
    /// One thread per worker reads its messages until its `done` or `failed`, or its loss.
    func startReader(_ seat: Seat) {
        let t = Thread { [self] in
            while true {
                let message: ControlMessage
                let attachment: [UInt8]
                do {
                    (message, attachment) = try seat.member.channel.receiveWithAttachment(timeout: options.heartbeatTimeout)
                } catch {
                    condition.lock()
                    lose(seat, "\(error)")
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                condition.lock()
                let (reply, ends) = handle(message, attachment: attachment, from: seat)
                condition.broadcast()
                condition.unlock()
                if let (decision, targets) = reply {
                    // A rank that cannot be told is lost soon by its own reader (every rank
                    // waits for this message, so the run cannot go on without it).
                    for s in targets { try? s.member.channel.send(decision, timeout: 5) }
                }
                if ends { return }
            }
        }
        t.name = "coordinator-worker"
        t.start()
    }

    /// Beats to every live worker (so workers notice a lost coordinator) and reports stalls.
    func startHeartbeat() {
        let t = Thread { [self] in
            while !stopBeating.isSet {
                Thread.sleep(forTimeInterval: options.heartbeatInterval)
                if stopBeating.isSet { break }
                condition.lock()
                let targets = seats.filter(\.alive)
                let stall = inspector.check(worldSize: ring.count, at: Date())
                condition.unlock()
                for s in targets { try? s.member.channel.send(ControlMessage(.progress), timeout: 5) }
                if let stall { progress.message("[coordinator] \(stall)") }
            }
        }
        t.name = "coordinator-heartbeat"
        t.start()
    }

    /// Late admission (elastic runs): a worker that registers during the run (a restarted
    /// host, one that lost its link and came back) joins the ring at the next commit point.
    func startAdmission() {
        let t = Thread { [self] in
            var counted = Date()
            while !stopBeating.isSet {
                if counted.timeIntervalSinceNow < -10 { coordinator.logRefusalCounts(); counted = Date() }
                guard coordinator.handshakes.makeRoom(timeout: 0.5),
                      let connection = try? coordinator.listener.accept(timeout: 0.5) else { continue }
                coordinator.admit(connection, expectedFingerprint: fingerprint) { [self] member in admitLate(member) }
            }
        }
        t.name = "coordinator-late-admission"
        t.start()
    }

    func admitLate(_ member: Coordinator.Member) {
        condition.lock()
        if stopBeating.isSet || ring.filter(\.alive).count + joining.count >= options.worldSize {
            condition.unlock()
            coordinator.refuse(member.channel, host: member.host, because: "the job already has its \(options.worldSize) workers")
            return
        }
        let seat = Seat(member)
        seat.rank = -1
        seats.append(seat)
        joining.append(seat)
        startReader(seat)
        options.log("[coordinator] worker \(member.host) pid \(member.pid) (ring address \(member.ringAddress)) registered during the run; it joins at the next checkpoint")
        condition.broadcast()
        condition.unlock()
    }
}
