package io.machxp.client;

import io.machxp.kernel.Kernel;
import java.util.concurrent.CountDownLatch;

/** Runs a test body while a kernel's core thread is blocked: what completes meanwhile never needed the core. */
final class CoreBlocked {
    private CoreBlocked() {}

    static void during(Kernel kernel, Runnable body) throws InterruptedException {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        kernel.execute(() -> {
            blocked.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        blocked.await();
        try {
            body.run();
        } finally {
            release.countDown();
        }
    }
}
