package io.machxp.cli;

import picocli.CommandLine.Option;

/**
 * --verbose for a command that has no other use for it: an error that ends the command prints its
 * stack trace after its one-line message ({@link ExitCodes#configure} reads the option by name).
 */
final class VerboseOption {
    @Option(names = "--verbose", description = "print the stack trace of an error that ends the command")
    boolean verbose;
}
