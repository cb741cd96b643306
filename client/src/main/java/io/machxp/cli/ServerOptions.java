package io.machxp.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import io.machxp.proto.threads.OwnThreads;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.Locale;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * The options every server command (pager, kernel) shares: its logs' format and level, and the
 * port of its Prometheus metrics.
 */
final class ServerOptions {
    enum LogFormat { text, json }

    @Option(names = "--log-format", defaultValue = "text", paramLabel = "text|json",
            description = "text (default), or json: one JSON object per line (logback's JsonEncoder)")
    LogFormat logFormat;

    @Option(names = "--log-level", defaultValue = "INFO", paramLabel = "LEVEL",
            converter = LevelConverter.class,
            description = "machxp's own log level: ERROR, WARN, INFO (default), DEBUG or TRACE")
    Level logLevel;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "serve Prometheus metrics on http://BIND:PORT/metrics (0 = any free port; default: none)")
    Integer metricsPort;

    @Option(names = "--verbose", description = "print the stack trace of an error that ends the command")
    boolean verbose;

    @Option(names = "--parent-pid", paramLabel = "PID", description = "stop (as on SIGTERM) when the process PID "
            + "ends, even by SIGKILL, and leave Ctrl-C (SIGINT) to it: 'cluster up' gives its own, so that no "
            + "server outlives it and its Ctrl-C stops the kernels before the pager")
    Long parentPid;

    /**
     * With --parent-pid, SIGINT is ignored from the start: a Ctrl-C in the terminal of {@code cluster
     * up} goes to its whole process group, children too, and the children must not stop all at once
     * (a pager stopping beside its kernels cuts their streams before they return their dirty pages);
     * the parent stops them in order, kernels first, by SIGTERM.
     */
    void leaveInterruptToParent() {
        if (parentPid != null) {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sun.misc.SignalHandler.SIG_IGN);
        }
    }

    /**
     * With --parent-pid: once that process has ended (or now, if it has already), this JVM exits,
     * which runs the shutdown hook that stops the server as SIGTERM does. The exit runs on a thread
     * of its own: {@code System.exit} blocks until the hooks have run, and on the common pool (the
     * default async executor, with one worker on 2 CPUs since JDK 25) it would hold the worker any
     * hook's own async step needed.
     */
    void exitWithParent(String who) {
        if (parentPid == null) {
            return;
        }
        java.util.Optional<ProcessHandle> parent = ProcessHandle.of(parentPid).filter(ProcessHandle::isAlive);
        java.util.concurrent.CompletableFuture<?> ended = parent.isPresent() ? parent.get().onExit()
                : java.util.concurrent.CompletableFuture.completedFuture(null);
        ended.thenRunAsync(() -> { // not on the caller's thread, which goes on to install the shutdown hook
            System.err.printf(Locale.ROOT, "%s: its parent process %d has ended; stopping%n", who, parentPid);
            System.exit(ExitCodes.OK);
        }, OwnThreads.named("exit-with-parent"));
    }

    /** Applies --log-format and --log-level to logback, before anything logs. */
    void configureLogging() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        ((Logger) LoggerFactory.getLogger("io.machxp")).setLevel(logLevel);
        if (logFormat == LogFormat.json) {
            Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            JsonEncoder encoder = new JsonEncoder();
            encoder.setContext(context);
            encoder.setWithFormattedMessage(true); // "message" as a person reads it, not the pattern
            encoder.setWithMessage(false);
            encoder.setWithArguments(false);
            encoder.setWithContext(false);
            encoder.setWithNanoseconds(false);
            encoder.start();
            ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
            appender.setContext(context);
            appender.setName("JSON");
            appender.setTarget("System.err");
            appender.setEncoder(encoder);
            appender.start();
            root.detachAndStopAllAppenders();
            root.addAppender(appender);
        }
    }

    /** The metrics endpoint when --metrics-port was given, else null; {@code bind} is the host to listen on. */
    MetricsServer startMetrics(String bind, java.util.function.Consumer<MeterRegistry> publish) throws IOException {
        if (metricsPort == null) {
            return null;
        }
        MetricsServer server = MetricsServer.start(bind, metricsPort);
        publish.accept(server.registry());
        return server;
    }

    static final class LevelConverter implements picocli.CommandLine.ITypeConverter<Level> {
        @Override
        public Level convert(String value) {
            Level level = Level.toLevel(value, null);
            if (level == null) {
                throw new picocli.CommandLine.TypeConversionException("'" + value
                        + "' is not a log level: use ERROR, WARN, INFO, DEBUG or TRACE");
            }
            return level;
        }
    }
}
