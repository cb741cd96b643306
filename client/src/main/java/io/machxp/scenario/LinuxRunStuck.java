package io.machxp.scenario;

/**
 * A linux-mode run that its watchdog had to stop ({@link LinuxWatchdog}): the runner had not
 * ended it by its limit and a grace, so its threads were made ordinary and the run failed. The
 * message is one sentence naming the scenario. {@code machxp run} exits with code 1; a file of
 * several in {@code --compare linux} is an ERROR line, and the next file runs.
 */
public final class LinuxRunStuck extends RuntimeException {
    public LinuxRunStuck(String message) {
        super(message);
    }
}
