package io.machxp.cli;

import java.util.concurrent.CountDownLatch;

/** Keeps a server command running until the process is told to stop (Ctrl-C, SIGTERM). */
final class Shutdown {
    private Shutdown() {}

    static void awaitSignal(AutoCloseable server) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception ignored) {
                // exiting anyway
            }
            stopped.countDown();
        }, "machxp-shutdown"));
        stopped.await();
    }
}
