package io.machxp.cli;

import java.util.concurrent.CountDownLatch;

/**
 * Keeps a server command running until the process is told to stop (Ctrl-C, SIGTERM), then closes
 * it within {@link io.machxp.cluster.CloseAtExit#DEFAULT_BOUND}, or the command's own bound (a stuck
 * close does not hang the exit).
 */
final class Shutdown {
    private Shutdown() {}

    static void awaitSignal(AutoCloseable server) throws InterruptedException {
        awaitSignal(server, io.machxp.cluster.CloseAtExit.DEFAULT_BOUND);
    }

    /** As {@link #awaitSignal(AutoCloseable)}, closing within {@code bound}. */
    static void awaitSignal(AutoCloseable server, java.time.Duration bound) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            io.machxp.cluster.CloseAtExit.closeWithin("the server", server, bound);
            stopped.countDown();
        }, "machxp-shutdown"));
        stopped.await();
    }
}
