package io.machxp.scenario;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Keeps HotSpot's JIT from taking new work while a linux-mode scenario runs.
 *
 * <p>Why: a Java thread whose code gets hot asks for a compilation, and the request takes the
 * compile queue's lock, which the compiler threads also take. A SCHED_FIFO scenario thread that
 * finds it held (its holder preempted on the JVM's CPU by anything else the machine runs) sleeps
 * for milliseconds, and a lower-priority scenario thread of its CPU runs meanwhile: something a
 * Linux thread computing in C never lets happen. Traced with ftrace on {@code sched-fifo.yaml}: H
 * slept in {@code FUTEX_WAIT} on the queue's mutex during its 50 ms compute, and L took the free
 * futex. With this quiet no request reaches the queue: a compiler directive that excludes every
 * method makes HotSpot refuse a request before it takes the queue's lock (the method stays
 * interpreted, or as compiled as it already was). Code compiled before the run stays compiled.
 *
 * <p>The directive is added through the DiagnosticCommand MBean ({@code jcmd Compiler.directives_add}
 * from inside) and removed on close. Where the MBean is missing (not HotSpot), it does nothing:
 * the run goes on, as before, exposed to the JIT.
 */
final class JitQuiet implements AutoCloseable {
    private static final String DIRECTIVE = "[{ match: \"*.*\", Exclude: true }]";

    private final MBeanServer server;
    private final ObjectName dcmd;
    private boolean added;

    private JitQuiet(MBeanServer server, ObjectName dcmd) {
        this.server = server;
        this.dcmd = dcmd;
    }

    /** Adds the directive; from now on no method is compiled until {@link #close}. */
    static JitQuiet start() {
        JitQuiet q;
        try {
            q = new JitQuiet(ManagementFactory.getPlatformMBeanServer(),
                    new ObjectName("com.sun.management:type=DiagnosticCommand"));
        } catch (JMException | RuntimeException e) {
            return new JitQuiet(null, null);
        }
        q.add();
        return q;
    }

    /** Whether the directive is in force. */
    boolean active() {
        return added;
    }

    private void add() {
        Path file = null;
        try {
            file = Files.createTempFile("machxp-jit-quiet", ".json");
            Files.writeString(file, DIRECTIVE);
            Object out = server.invoke(dcmd, "compilerDirectivesAdd", new Object[] {new String[] {file.toString()}},
                    new String[] {String[].class.getName()});
            added = out == null || !out.toString().toLowerCase(java.util.Locale.ROOT).contains("error");
        } catch (IOException | JMException | RuntimeException e) {
            added = false;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temporary file left behind
                }
            }
        }
    }

    @Override
    public void close() {
        if (!added) {
            return;
        }
        added = false;
        try {
            server.invoke(dcmd, "compilerDirectivesRemove", new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
        } catch (JMException | RuntimeException e) {
            // the JVM ends soon after a linux-mode run; an excluded JIT until then costs nothing
        }
    }
}
