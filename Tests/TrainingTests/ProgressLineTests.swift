import Training
import XCTest

/// On a terminal the progress line redraws in place; an epoch's last (forced) line stays on
/// screen when the validation message follows, other redrawn lines are cleared by a message.
final class ProgressLineTests: XCTestCase {
    func values(step: Int) -> ProgressLine.Values {
        ProgressLine.Values(epoch: 0, epochs: 2, step: step, totalSteps: 20, loss: 0.5, accuracy: 0.9,
                            imagesPerSecond: 100, lr: 0.1, etaSeconds: 3)
    }

    func testAnEpochsLastLineSurvivesTheValidationMessage() {
        var out = ""
        let line = ProgressLine(interval: 5, forceTerminal: true, output: { out += $0 })
        line.update(values(step: 10), force: true)
        line.message("validation after epoch 1: top-1 90%")
        let kept = out.components(separatedBy: "\n")
        XCTAssertTrue(kept[0].contains("step 10/20"), out)
        XCTAssertEqual(kept[1], "validation after epoch 1: top-1 90%", out)

        // A line drawn mid-epoch (not forced) is cleared by a message instead.
        out = ""
        Thread.sleep(forTimeInterval: 0.25)
        line.update(values(step: 13))
        line.message("warning: something")
        XCTAssertTrue(out.hasSuffix("\r\u{1B}[2Kwarning: something\n"), out.debugDescription)
        // No redrawn line on screen: the message is just a line.
        out = ""
        line.message("plain")
        XCTAssertEqual(out, "plain\n")
    }
}
