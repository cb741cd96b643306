package io.machxp.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * machxp completion bash|zsh: the shell completion script picocli generates from the commands and
 * their options (one script serves both shells: under zsh it loads bashcompinit itself).
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        header = "Print a shell completion script: source <(machxp completion bash).",
        description = {"Prints the completion script for bash or zsh. Load it in the current shell with",
            "  source <(machxp completion bash)      (or zsh)",
            "or save it as /etc/bash_completion.d/machxp, or in a directory of zsh's $fpath."})
final class CompletionCommand implements Callable<Integer> {

    /** --verbose: the stack trace of an error. */
    @picocli.CommandLine.Mixin
    VerboseOption verboseOption;
    enum Shell { bash, zsh }

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SHELL", description = "bash or zsh")
    Shell shell;

    /**
     * A command line for the script: {@code root}'s commands, and those of the bench module's jar
     * that it lacks (bench, scale, jmh, compare, pager-efficiency: the launcher runs them from that
     * jar), by name only, so that the script completes every command {@code --help} lists.
     */
    static picocli.CommandLine withBenchJarCommands(picocli.CommandLine root) {
        var missing = ExitCodes.BENCH_JAR_COMMANDS.stream().filter(c -> !root.getSubcommands().containsKey(c)).sorted().toList();
        if (missing.isEmpty()) {
            return root;
        }
        picocli.CommandLine copy = Machxp.commandLine();
        for (String name : missing) {
            copy.addSubcommand(name, CommandSpec.create().name(name));
        }
        return copy;
    }

    @Override
    public Integer call() {
        var root = spec.root().commandLine();
        String script = AutoComplete.bash(root.getCommandName(), withBenchJarCommands(root));
        spec.commandLine().getOut().print(script);
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
