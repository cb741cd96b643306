package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.FilePageStore;
import io.netty.channel.DefaultEventLoop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Late11 review MED-P1, on the JVM's own readings ({@link CoreProgress}): the core thread reading a
 * page's version (as PageAnswers does) blocks on the file store's monitor while the store thread
 * holds it in a write; the store thread is RUNNABLE (here computing; in a slow write or fsync, in a
 * system call: RUNNABLE too). Before, the core, BLOCKED with no CPU, was taken as stuck after two or
 * three slices and close skipped the retry of failed writes and the count of pages lost. The
 * slices are the test's (no waiting); the only waits are for the threads to reach their states.
 */
class CoreBehindStoreWriteTest {
    @Test
    void aCoreBlockedBehindTheStoreThreadsWriteIsNotStuck() throws Exception {
        Path dir = Files.createTempDirectory("core-behind-store");
        FilePageStore store = new FilePageStore(dir, 4096);
        DefaultEventLoop loop = new DefaultEventLoop();
        CoreProgress progress = CoreProgress.of(loop);
        CountDownLatch held = new CountDownLatch(1);
        AtomicBoolean release = new AtomicBoolean();
        Thread storeThread = new Thread(() -> {
            synchronized (store) { // as FilePageStore.write, synchronized, during a slow disk write
                held.countDown();
                while (!release.get()) {
                    Thread.onSpinWait();
                }
            }
        }, "store-thread");
        storeThread.start();
        try {
            held.await();
            CountDownLatch answered = new CountDownLatch(1);
            loop.execute(() -> {
                store.version("obj", 0);
                answered.countDown();
            });
            while (progress.state() != Thread.State.BLOCKED) {
                Thread.onSpinWait();
            }
            StuckCheck check = new StuckCheck(progress);
            long slice = StoreClose.STUCK_AFTER.toNanos();
            for (int i = 0; i < StuckCheck.SLICES + 3; i++) {
                assertThat(check.stuck(slice)).as("slice %d behind the store thread's write", i + 1).isFalse();
            }
            release.set(true);
            answered.await();
        } finally {
            release.set(true);
            storeThread.join();
            loop.shutdownGracefully().sync();
            store.close();
        }
    }

    @Test
    void theLockOwnerIsTheStoreThread() throws Exception {
        Object monitor = new Object();
        DefaultEventLoop loop = new DefaultEventLoop();
        CoreProgress progress = CoreProgress.of(loop);
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread owner = new Thread(() -> {
            synchronized (monitor) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "owner");
        owner.start();
        try {
            held.await();
            assertThat(progress.lockOwner()).as("core not waiting for a lock").isNull();
            loop.execute(() -> {
                synchronized (monitor) {
                    monitor.hashCode();
                }
            });
            while (progress.state() != Thread.State.BLOCKED) {
                Thread.onSpinWait();
            }
            while (owner.getState() != Thread.State.WAITING) {
                Thread.onSpinWait();
            }
            StuckCheck.Owner o = progress.lockOwner();
            @SuppressWarnings("deprecation")
            long ownerId = owner.getId();
            assertThat(o).isNotNull();
            assertThat(o.thread()).isEqualTo(ownerId);
            assertThat(o.state()).isEqualTo(Thread.State.WAITING);
        } finally {
            release.countDown();
            owner.join();
            loop.shutdownGracefully().sync();
        }
    }
}
