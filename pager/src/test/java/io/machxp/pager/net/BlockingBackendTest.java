package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.lib.PagerBackend;
import io.machxp.pager.lib.XpPager;
import io.machxp.pager.net.FloodingKernelTest.RawKernel;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A library backend whose read (or unlock) of one page blocks holds up only the kernel waiting
 * for that page: the pager calls it off its core thread and answers when it returns, while it
 * serves every other kernel meanwhile (a futex of another object passed from its holder to a
 * waiter, keepalives answered).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BlockingBackendTest {
    private static final int PAGE = 4096;
    private static final int BIG = 1;
    private static final int SLOW = 2;

    /** Blocks the read, or the unlock, of page 0 of "slow" until released; everything else at once. */
    private static final class Backend implements PagerBackend {
        final CountDownLatch inside = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final byte[] slowPage = new byte[PAGE];
        final boolean blockUnlock;

        Backend(boolean blockUnlock) {
            this.blockUnlock = blockUnlock;
            Arrays.fill(slowPage, (byte) 5);
        }

        @Override
        public byte[] read(String object, long offset) throws IOException {
            if (!blockUnlock && object.equals("slow") && offset == 0) {
                hold();
            }
            return object.equals("slow") ? slowPage.clone() : null;
        }

        @Override
        public void unlock(String object, long offset) throws IOException {
            if (blockUnlock && object.equals("slow") && offset == 0) {
                hold();
                throw new IOException("slow is read-only");
            }
        }

        @Override
        public void write(String object, long offset, byte[] page) {}

        private void hold() throws IOException {
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    @Test
    void aReadThatBlocksHoldsUpOnlyItsPage() throws Exception {
        Backend backend = new Backend(false);
        try (Pager pager = XpPager.serve(backend).object("big", 4L * PAGE).object("slow", 4L * PAGE)
                .lease(Duration.ZERO).start()) {
            PagerToKernel answer = whileBlocked(pager, backend, a -> a.out.onNext(request(VmProt.VM_PROT_READ)));
            assertThat(answer.getMemoryObjectDataSupply().getData().toByteArray())
                    .as("the read's answer, once the backend returned").isEqualTo(backend.slowPage);
        }
    }

    @Test
    void anUnlockThatBlocksHoldsUpOnlyItsPageAndItsRefusalIsTheAnswer() throws Exception {
        Backend backend = new Backend(true);
        try (Pager pager = XpPager.serve(backend).object("big", 4L * PAGE).object("slow", 4L * PAGE)
                .lease(Duration.ZERO).start()) {
            PagerToKernel answer = whileBlocked(pager, backend, a -> a.out.onNext(KernelToPager.newBuilder()
                    .setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder().setObjectId(SLOW).setOffset(0)
                            .setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_WRITE)).build()));
            assertThat(answer.getMemoryObjectDataError().getReason()).contains("slow is read-only");
        }
    }

    /**
     * Kernel B holds futex big@0; kernel A asks for page slow@0 ({@code ask}) and the backend
     * blocks on it. Meanwhile kernel C locks big@0: the pager asks B for it, B gives it back, C
     * gets it, and B's keepalive is answered. Then the backend returns: A's answer.
     */
    private static PagerToKernel whileBlocked(Pager pager, Backend backend, java.util.function.Consumer<RawKernel> ask)
            throws Exception {
        try (RawKernel a = kernel(pager, "A"); RawKernel b = kernel(pager, "B"); RawKernel c = kernel(pager, "C")) {
            b.out.onNext(lock());
            long token = until(b, PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            ask.accept(a);
            assertThat(backend.inside.await(30, TimeUnit.SECONDS)).as("the backend was asked").isTrue();
            try {
                c.out.onNext(lock());
                until(b, PagerToKernel::hasMemoryObjectRelinquishFutex);
                b.out.onNext(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased
                        .newBuilder().setObjectId(BIG).setOffset(0).setFencingToken(token)).build());
                assertThat(until(c, PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                        .getFencingToken()).isGreaterThan(token);
                b.out.onNext(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1))
                        .build());
                until(b, PagerToKernel::hasPagerKeepalive);
                assertThat(a.in).as("A waits for the backend").isEmpty();
            } finally {
                backend.release.countDown();
            }
            return until(a, m -> m.hasMemoryObjectDataSupply() || m.hasMemoryObjectDataError());
        }
    }

    private static RawKernel kernel(Pager pager, String name) throws InterruptedException {
        RawKernel k = new RawKernel(pager.target(), name, true); // inits "big" as object 1
        k.out.onNext(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                .setObjectId(SLOW).setName("slow").setPageSize(PAGE)).build());
        int ready = 0;
        while (ready < 2) {
            if (k.next().hasMemoryObjectReady()) {
                ready++;
            }
        }
        return k;
    }

    private static KernelToPager lock() {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(BIG).setOffset(0)).build();
    }

    private static KernelToPager request(VmProt access) {
        return KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(SLOW).setOffset(0).setLength(PAGE).setDesiredAccess(access)).build();
    }

    /** The next message of {@code k} that {@code wanted} accepts; those before it are skipped. */
    private static PagerToKernel until(RawKernel k, Predicate<PagerToKernel> wanted) throws InterruptedException {
        PagerToKernel m;
        do {
            m = k.next();
        } while (!wanted.test(m));
        return m;
    }
}
