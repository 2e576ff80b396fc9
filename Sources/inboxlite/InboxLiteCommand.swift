import ArgumentParser

/// `inboxlite`: the WhatsApp inbox backend's command line.
@main
struct InboxLiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inboxlite",
        abstract: "Self-hosted WhatsApp inbox backend: verified webhook receiver over SQLite.",
        subcommands: [ServeCommand.self, MigrateCommand.self, SignCommand.self, SendTestCommand.self, ReplayCommand.self, BackupCommand.self,
                      TokenCommand.self, ForwardingCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
