package io.machxp.pager.net;

import static io.machxp.pager.net.ProbeKernel.reason;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Over gRPC, a kernel written from xp.proto alone that keeps its lease with keepalives but never
 * answers a lock_request (xp-spec 4.8): the pager ends its stream at the answer deadline with
 * ETIMEDOUT and a sentence, and the page and the futex it held go on (the futex with owner_died)
 * once its lease has ended, never before. Waits on what the pager sends, never on time; "never
 * before" is read on the pager's own clock when it sends them (its XP listener, on its core
 * thread), against when the silent kernel sent the last keepalive the pager answered - so a loaded
 * machine, on which the test runs on only after the lease ended, cannot fail it.
 */
class SilentKernelTest {
    /**
     * 3 s, not 1 s: both kernels must keep their leases with keepalives until the answer deadline
     * ends the silent one (then the lease is waited out), and on a loaded machine their keepalives
     * can pause for a second or more; only one of over 2.9 s ends a session early.
     */
    private static final Duration LEASE = Duration.ofSeconds(3);
    private static final Duration DEADLINE = LEASE.multipliedBy(2); // the least: two leases
    private Pager pager;

    @BeforeEach
    void start() throws Exception {
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(LEASE)
                .withAnswerDeadline(DEADLINE));
    }

    @AfterEach
    void stop() {
        pager.close();
    }

    private static KernelToPager request(long offset, VmProt access) {
        return KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(1).setOffset(offset).setLength(4096).setDesiredAccess(access)).build();
    }

    @Test
    void aKernelThatKeepsItsLeaseButNeverAnswersIsEndedAndWhatItHeldGoesOnAfterItsLease() throws Exception {
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 7);
        AtomicLong handedOnAt = new AtomicLong(Long.MIN_VALUE); // when the pager first sent "other" what it waited for
        pager.stats().listen(new PagerStats.XpListener() {
            @Override
            public void received(String kernel, KernelToPager message) {}

            @Override
            public void sent(String kernel, PagerToKernel message) {
                if (kernel.equals("other") && (message.hasMemoryObjectDataSupply()
                        || message.hasMemoryObjectFutexGranted())) {
                    handedOnAt.compareAndSet(Long.MIN_VALUE, System.nanoTime());
                }
            }
        });
        try (ProbeKernel silent = ProbeKernel.welcomed(pager.target(), "silent").keepingAlive(100);
                ProbeKernel other = ProbeKernel.welcomed(pager.target(), "other").keepingAlive(100)) {
            silent.send(ProbeKernel.lock(8));
            silent.await(PagerToKernel::hasMemoryObjectFutexGranted);
            silent.send(request(0, VmProt.VM_PROT_READ_WRITE));
            silent.await(m -> m.hasMemoryObjectDataUnavailable() || m.hasMemoryObjectDataSupply());
            silent.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset(0).setData(ByteString.copyFrom(data)).setDirty(true)
                    .setKernelCopy(true).setVersion(1)).build());
            silent.barrier();

            other.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(1).setOffset(8)).build());
            other.send(request(0, VmProt.VM_PROT_READ));
            silent.await(PagerToKernel::hasMemoryObjectLockRequest); // and never answered

            com.google.rpc.Status end = silent.end.get(30, TimeUnit.SECONDS);
            assertThat(end.getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION.value());
            assertThat(reason(end)).isEqualTo("ETIMEDOUT");
            assertThat(end.getMessage()).contains("memory_object_lock_request").contains(DEADLINE.toMillis() + " ms")
                    .contains("until its lease ends");

            PagerToKernel supply = other.await(m -> m.hasMemoryObjectDataSupply()
                    || m.hasMemoryObjectFutexGranted());
            PagerToKernel second = other.await(m -> m.hasMemoryObjectDataSupply()
                    || m.hasMemoryObjectFutexGranted());
            PagerToKernel page = supply.hasMemoryObjectDataSupply() ? supply : second;
            PagerToKernel futex = supply.hasMemoryObjectFutexGranted() ? supply : second;
            assertThat(page.getMemoryObjectDataSupply().getData().toByteArray()).isEqualTo(data);
            assertThat(futex.getMemoryObjectFutexGranted().getOwnerDied()).as("its holder died").isTrue();
            assertThat(pager.holderOf("obj", 8)).isEqualTo("other");
            // Never before its lease ended: the pager heard the silent kernel last no earlier than
            // it sent the last keepalive the pager answered, and counts its lease from then.
            assertThat(silent.answeredKeepaliveSentNanos()).as("a keepalive of the silent kernel answered")
                    .isNotEqualTo(Long.MIN_VALUE);
            assertThat(Duration.ofNanos(handedOnAt.get() - silent.answeredKeepaliveSentNanos()))
                    .as("from the silent kernel's last answered keepalive to when the pager handed on what it held")
                    .isGreaterThanOrEqualTo(LEASE);
        }
    }
}
