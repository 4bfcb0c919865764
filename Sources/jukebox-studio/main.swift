import Foundation
import JukeboxCore

// jukebox-studio --model SET [--session DIR]: the interactive studio over StudioKit.
// Everything that can fail on the command line fails before the terminal is touched, in one line.

func fail(_ text: String, _ status: Int32) -> Never {
    FileHandle.standardError.write(Data("jukebox-studio: \(text)\n".utf8))
    exit(status)
}

var modelPath: String? = nil
var sessionPath: String? = nil
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--model":
        guard let v = args.popFirst() else { fail("--model needs a model set folder", 2) }
        modelPath = v
    case "--session":
        guard let v = args.popFirst() else { fail("--session needs a folder", 2) }
        sessionPath = v
    case "-h", "--help":
        print("usage: jukebox-studio --model SET [--session DIR]")
        exit(0)
    default:
        fail("unknown argument \(a)", 2)
    }
}

guard let modelPath else { fail("no model set named (--model SET); the bundled model is not here yet", 2) }
let session = sessionPath ?? Runtime.defaultSessionPath()
if FileManager.default.fileExists(atPath: (session as NSString).appendingPathComponent(SessionFolder.documentName)) {
    fail("\(session) already holds a session; opening sessions in the studio is not supported yet", 1)
}

let set: ModelSet
do { set = try ModelSet.load(modelPath) } catch {
    fail("cannot load model set \(modelPath): \(error)", 1)
}

guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { fail("needs a terminal (stdin and stdout)", 1) }

let runtime = Runtime(set: set, modelPath: modelPath, sessionPath: session)
exit(runtime.run())
