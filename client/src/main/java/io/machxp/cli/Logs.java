package io.machxp.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** For commands whose output is a report: the runtime's INFO lines (sessions opening) would bury it. */
public final class Logs {
    private Logs() {}

    /** machxp's own logs from WARN up only. */
    public static void warningsOnly() {
        ((Logger) LoggerFactory.getLogger("io.machxp")).setLevel(Level.WARN);
    }

    /** machxp's own logs from ERROR up only: for fault injection, where warnings are the point. */
    public static void errorsOnly() {
        ((Logger) LoggerFactory.getLogger("io.machxp")).setLevel(Level.ERROR);
    }
}
