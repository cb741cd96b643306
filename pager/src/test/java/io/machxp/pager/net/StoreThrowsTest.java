package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.net.FloodingKernelTest.RawKernel;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A store whose write throws something other than an I/O error (a backend's bug, an
 * IllegalStateException) fails that write as a full disk does: the page stays the pager's copy
 * and is written again, and the keepalive after it waits for that.
 */
class StoreThrowsTest {
    private static final int PAGE = 4096;

    /** A store in memory, on a store thread as one on disk, whose first write throws. */
    private static final class ThrowingStore implements PageStore {
        final MemoryPageStore memory = new MemoryPageStore();
        final AtomicInteger throwsLeft = new AtomicInteger(1);
        final AtomicInteger endBatchThrowsLeft = new AtomicInteger(0);
        /** The next write throws this instead of an IllegalStateException, if set. */
        volatile Error error;

        @Override
        public byte[] read(String object, long offset) {
            return memory.read(object, offset);
        }

        @Override
        public long version(String object, long offset) {
            return memory.version(object, offset);
        }

        @Override
        public void write(String object, long offset, byte[] page, long version) {
            if (throwsLeft.getAndDecrement() > 0) {
                if (error != null) {
                    throw error;
                }
                throw new IllegalStateException("the backend's write has a bug");
            }
            memory.write(object, offset, page, version);
        }

        @Override
        public void holder(String object, long offset, String kernel) {
            memory.holder(object, offset, kernel);
        }

        @Override
        public java.util.List<Holder> holders() {
            return memory.holders();
        }

        @Override
        public void endBatch() {
            if (endBatchThrowsLeft.getAndDecrement() > 0) {
                throw new IllegalStateException("the store's force has a bug");
            }
        }

        @Override
        public boolean blocking() {
            return true;
        }
    }

    @Test
    void aWriteThatThrowsIsWrittenAgainBeforeTheKeepaliveAndAnotherKernelReadsTheNewData() throws Exception {
        byte[] data = new byte[PAGE];
        Arrays.fill(data, (byte) 9);
        ThrowingStore store = new ThrowingStore();
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("big", 4L * PAGE)).withFreshStart(true)
                .withLease(Duration.ZERO), store, GrantPolicy.IMMEDIATE);
                RawKernel a = new RawKernel(pager.target(), "a", true)) {
            a.out.onNext(request(VmProt.VM_PROT_READ_WRITE));
            supplied(a);
            a.out.onNext(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset(0).setData(ByteString.copyFrom(data)).setDirty(true)).build());
            a.out.onNext(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1))
                    .build());
            PagerToKernel m;
            do {
                m = a.next();
            } while (!m.hasPagerKeepalive());
            assertThat(store.throwsLeft.get()).as("the write threw").isNegative();
            assertThat(store.read("big", 0)).as("in the store when the keepalive is answered").isEqualTo(data);

            try (RawKernel b = new RawKernel(pager.target(), "b", true)) {
                b.out.onNext(request(VmProt.VM_PROT_READ));
                PagerToKernel got = supplied(b);
                assertThat(got.hasMemoryObjectDataSupply()).as("the returned page, not the old one").isTrue();
                assertThat(got.getMemoryObjectDataSupply().getData().toByteArray()).isEqualTo(data);
            }
        }
    }

    @Test
    void aGrantWhoseBatchThrowsIsSentOnceTheJournalIsWrittenAgain() throws Exception {
        ThrowingStore store = new ThrowingStore();
        store.endBatchThrowsLeft.set(1);
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("big", 4L * PAGE)).withFreshStart(true)
                .withLease(Duration.ZERO), store, GrantPolicy.IMMEDIATE);
                RawKernel a = new RawKernel(pager.target(), "a", true)) {
            a.out.onNext(KernelToPager.newBuilder().setMemoryObjectLockFutex(
                    io.machxp.proto.xp.MemoryObjectLockFutex.newBuilder().setObjectId(1).setOffset(0)).build());
            PagerToKernel m;
            do { // before: the grant waited in the outbox for good, and the session with it
                m = a.next();
            } while (!m.hasMemoryObjectFutexGranted());
            assertThat(store.endBatchThrowsLeft.get()).as("the batch threw").isNegative();
            assertThat(store.holders()).extracting(PageStore.Holder::kernel).containsExactly("a");
        }
    }

    /**
     * A write that throws a VirtualMachineError (a stack overflow) fails like any other: before,
     * it went up from the store thread with its batch already taken off the queue, so nothing
     * came of the write (never retried) and the next keepalive, in a later batch, was answered
     * though the page was never written.
     */
    @Test
    void aWriteThatThrowsAVirtualMachineErrorIsWrittenAgainBeforeTheNextKeepaliveIsAnswered() throws Exception {
        byte[] data = new byte[PAGE];
        Arrays.fill(data, (byte) 5);
        ThrowingStore store = new ThrowingStore();
        store.error = new StackOverflowError("the backend recursed");
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("big", 4L * PAGE)).withFreshStart(true)
                .withLease(Duration.ZERO), store, GrantPolicy.IMMEDIATE);
                RawKernel a = new RawKernel(pager.target(), "a", true)) {
            a.out.onNext(request(VmProt.VM_PROT_READ_WRITE));
            supplied(a);
            a.out.onNext(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset(0).setData(ByteString.copyFrom(data)).setDirty(true)).build());
            a.out.onNext(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1))
                    .build());
            a.out.onNext(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(2))
                    .build());
            PagerToKernel m;
            do {
                m = a.next();
            } while (!m.hasPagerKeepalive() || m.getPagerKeepalive().getSequence() < 2);
            assertThat(store.read("big", 0)).as("in the store when keepalive 2 is answered").isEqualTo(data);
            assertThat(store.throwsLeft.get()).as("the write threw, then was written again").isNegative();
        }
    }

    private static KernelToPager request(VmProt access) {
        return KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(1).setOffset(0).setLength(PAGE).setDesiredAccess(access)).build();
    }

    private static PagerToKernel supplied(RawKernel k) throws InterruptedException {
        PagerToKernel m;
        do {
            m = k.next();
        } while (!m.hasMemoryObjectDataUnavailable() && !m.hasMemoryObjectDataSupply());
        return m;
    }
}
