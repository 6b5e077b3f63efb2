import ArgumentParser

/// `seresnet`: SE-ResNet-50 ImageNet classification as an HTTP service, and the tools around it.
@main
struct SeresnetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seresnet",
        abstract: "SE-ResNet ImageNet classification: HTTP service, CLI classifier, benchmarks, tools.",
        subcommands: []
    )
}
