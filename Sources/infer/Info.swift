import ArgumentParser
import Foundation
import InferKit

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a model file: architecture, hyperparameters, tensors, vocabulary.")

    @OptionGroup var modelFile: ModelOptions<Info>

    func run() throws {
        try Terminal.reportingErrors {
            let model = try modelFile.load()
            let c = model.config
            var lines: [String] = []
            lines.append("file:            \(model.path) (\(model.format), \(formatBytes(model.fileSize)))")
            if let name = model.metadata["general.name"]?.string { lines.append("name:            \(name)") }
            lines.append("architecture:    \(c.architecture)")
            lines.append("embedding:       \(c.dim)")
            lines.append("feed-forward:    \(c.hiddenDim)")
            lines.append("layers:          \(c.layerCount)")
            lines.append("heads:           \(c.headCount) (KV heads \(c.kvHeadCount), head dimension \(c.headDim))")
            lines.append("context length:  \(c.contextLength)")
            for (name, value) in model.blockFeatures {
                lines.append((name + ":").padding(toLength: 17, withPad: " ", startingAt: 0) + value)
            }
            lines.append("RMS epsilon:     \(c.rmsEpsilon)")
            lines.append("tensors:         \(model.tensorCount)")
            for (type, bytes) in model.weightBytesByType {
                lines.append("  \(type.padding(toLength: 14, withPad: " ", startingAt: 0)) \(formatBytes(bytes))")
            }
            let t = model.tokenizer
            lines.append("vocabulary:      \(t.vocabularySize) tokens")
            let specials: [(String, Int?)] = [("BOS", t.special.bos), ("EOS", t.special.eos), ("EOT", t.special.eot),
                                              ("UNK", t.special.unknown), ("PAD", t.special.padding)]
            let named = specials.compactMap { name, id in id.map { "\(name) \($0) '\(Tokenize.escaped(t.piece(of: $0)))'" } }
            lines.append("special tokens:  \(named.isEmpty ? "none" : named.joined(separator: ", "))")
            lines.append("chat template:   \(model.chatTemplate == nil ? "none" : "present (\(model.chatTemplate!.count) characters)")")
            print(lines.joined(separator: "\n"))
        }
    }
}

func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.2f %@", value, units[unit])
}

extension Info: SharedOptionsHelp {
    static var modelHelp: ArgumentHelp { "Model file: GGUF, or a llama2.c model.bin." }
}
