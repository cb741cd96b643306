package io.machxp.kernel.probe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.Arrays;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What some loggers say during a test, at INFO and above, for its assertions: {@link #start} turns
 * them to INFO and captures their lines, {@link #close} detaches the capture and gives each logger
 * its level back.
 */
final class WatchedLogs implements AutoCloseable {
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final List<Logger> loggers;
    private final List<Level> levels;

    WatchedLogs(String... loggerNames) {
        loggers = Arrays.stream(loggerNames).map(n -> (Logger) LoggerFactory.getLogger(n)).toList();
        levels = loggers.stream().map(Logger::getLevel).toList();
    }

    /** From now on the loggers log at INFO and their lines are kept. */
    void start() {
        for (Logger l : loggers) {
            l.setLevel(Level.INFO);
            l.addAppender(lines);
        }
        lines.start();
    }

    /** The lines kept so far. */
    List<ILoggingEvent> events() {
        return lines.list;
    }

    /** Whether a line kept so far contains {@code text}. */
    boolean says(String text) {
        return lines.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text));
    }

    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            loggers.get(i).detachAppender(lines);
            loggers.get(i).setLevel(levels.get(i));
        }
    }
}
