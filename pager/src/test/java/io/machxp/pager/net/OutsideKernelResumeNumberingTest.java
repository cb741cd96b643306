package io.machxp.pager.net;

import static io.machxp.pager.net.ProbeKernel.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Resume;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The numbering of a resumed session (xp-spec 4.7), probed by a kernel written from xp.proto and
 * xp-spec alone: which messages the pager sends again, what its welcome's {@code received} counts,
 * that both numberings go on across streams, and the uint64 boundaries of a resume's fields. Each
 * step waits on what the pager sends (a keepalive's answer is the barrier), never on time.
 *
 * <p>The lease is not what is probed: the kernels send no periodic keepalive (each would be a
 * numbered message and change the counts), so a session lives between two streams only on its
 * lease, and a loaded machine may take seconds to open a channel. The lease is a minute, far
 * beyond any step, so that no session ends under the test (with 5 s, one could).
 */
class OutsideKernelResumeNumberingTest {
    private static final Duration LEASE = Duration.ofMinutes(1);
    private Pager pager;

    @BeforeEach
    void start() throws Exception {
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(LEASE));
    }

    @AfterEach
    void stop() {
        pager.close();
    }

    private static KernelToPager hello(Resume resume) {
        var h = ProbeKernel.hello("k").getKernelHello().toBuilder().setResumable(true);
        if (resume != null) {
            h.setResume(resume);
        }
        return KernelToPager.newBuilder().setKernelHello(h).build();
    }

    private static KernelToPager keepalive(long sequence, long received) {
        return KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(sequence)
                .setReceived(received)).build();
    }

    /** Every message of the stream up to and including the answer to keepalive {@code sequence}. */
    private static List<PagerToKernel> upTo(ProbeKernel k, long sequence) throws InterruptedException {
        List<PagerToKernel> got = new ArrayList<>();
        PagerToKernel m;
        do {
            m = k.await(x -> true);
            got.add(m);
        } while (!(m.hasPagerKeepalive() && m.getPagerKeepalive().getSequence() == sequence));
        return got;
    }

    /**
     * Pager messages are numbered from 1 after the welcome and kernel messages from 1 after the
     * hello, on whichever stream they travel; a resume gets back exactly the pager's messages after
     * its {@code received}, in order, and a welcome whose {@code received} counts the kernel's.
     */
    @Test
    void aResumeSendsAgainExactlyTheMessagesAfterReceivedAndBothCountsGoOnAcrossStreams() throws Exception {
        ProbeKernel first = new ProbeKernel(pager.target());
        // Five kernel messages sent at once after the hello, without waiting for the welcome (2.4).
        first.send(hello(null));
        first.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                .setName("obj").setPageSize(4096)).build());
        first.send(ProbeKernel.lock(8));
        first.send(ProbeKernel.lock(16));
        first.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ)).build());
        first.send(keepalive(1, 0));
        List<PagerToKernel> sent = upTo(first, 1);
        assertThat(sent.get(0).hasPagerWelcome()).as("the welcome precedes every answer: %s", sent).isTrue();
        PagerWelcome w = sent.get(0).getPagerWelcome();
        assertThat(w.getSessionToken()).isNotZero();
        List<PagerToKernel> numbered = sent.subList(1, sent.size()); // pager messages 1..5
        assertThat(numbered).hasSize(5);
        assertThat(numbered.get(0).hasMemoryObjectReady()).isTrue();
        assertThat(numbered.get(3).hasMemoryObjectDataUnavailable()).isTrue();

        // Resume having received 2 of the 5: messages 3, 4 and 5 come again, exactly, after a welcome
        // that says the pager received the kernel's 5.
        Resume resume = Resume.newBuilder().setKernelId(w.getKernelId()).setSessionToken(w.getSessionToken())
                .setReceived(2).setAttempt(1).build();
        ProbeKernel second = new ProbeKernel(pager.target());
        second.send(hello(resume));
        second.send(keepalive(2, 5)); // kernel message 6, answered as pager message 6
        List<PagerToKernel> again = upTo(second, 2);
        PagerWelcome resumed = again.get(0).getPagerWelcome();
        assertThat(resumed.getResumed()).isTrue();
        assertThat(resumed.getReceived()).as("kernel messages received").isEqualTo(5);
        assertThat(resumed.getSessionToken()).isEqualTo(w.getSessionToken());
        assertThat(resumed.getKernelId()).isEqualTo(w.getKernelId());
        assertThat(again.subList(1, 4)).as("pager messages 3..5, as first sent").isEqualTo(numbered.subList(2, 5));
        assertThat(again).hasSize(5);
        assertThat(reason(first.end.get(30, TimeUnit.SECONDS))).isEqualTo("ESTALE");
        first.close();

        // A second resume counts across both streams: the kernel's 6 and the pager's 6.
        ProbeKernel third = new ProbeKernel(pager.target());
        third.send(hello(resume.toBuilder().setReceived(6).setAttempt(2).build()));
        third.send(keepalive(3, 6)); // kernel message 7, pager message 7
        List<PagerToKernel> onThird = upTo(third, 3);
        assertThat(onThird.get(0).getPagerWelcome().getReceived()).isEqualTo(6);
        assertThat(onThird).as("nothing to send again, then the answer").hasSize(2);
        second.close();

        // Received 6 of 7: only pager message 7 (the last keepalive's answer) comes again.
        ProbeKernel fourth = new ProbeKernel(pager.target());
        fourth.send(hello(resume.toBuilder().setReceived(6).setAttempt(3).build()));
        PagerToKernel welcome = fourth.await(x -> true);
        assertThat(welcome.getPagerWelcome().getReceived()).isEqualTo(7);
        assertThat(fourth.await(x -> true)).isEqualTo(onThird.get(1));
        third.close();

        // Once a keepalive said 7 were received, a resume from 6 cannot be served: refused, and the
        // session goes on on its stream.
        fourth.send(keepalive(4, 7));
        upTo(fourth, 4);
        try (ProbeKernel late = new ProbeKernel(pager.target())) {
            late.send(hello(resume.toBuilder().setReceived(6).setAttempt(4).build()));
            com.google.rpc.Status end = late.end.get(30, TimeUnit.SECONDS);
            assertThat(end.getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION.value());
            assertThat(reason(end)).isEqualTo("ESTALE");
        }
        assertThat(fourth.barrier()).isEmpty();
        assertThat(fourth.end).isNotDone();
        assertThat(pager.holderOf("obj", 8)).isEqualTo("k");
        assertThat(pager.holderOf("obj", 16)).isEqualTo("k");
        fourth.close();
    }

    /**
     * Resume.attempt is a uint64: an attempt of 2^63 or more is above one below it (4.7 "an attempt
     * above the last it took"), and below none of the smaller ones once taken.
     */
    @Test
    void resumeAttemptsCompareAsUint64() throws Exception {
        ProbeKernel k = new ProbeKernel(pager.target());
        k.send(hello(null));
        PagerWelcome w = k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
        Resume resume = Resume.newBuilder().setKernelId(w.getKernelId()).setSessionToken(w.getSessionToken())
                .setReceived(0).build();
        List<ProbeKernel> streams = new ArrayList<>(List.of(k));
        try {
            ProbeKernel current = k;
            for (long attempt : new long[] {Long.MAX_VALUE, Long.MIN_VALUE, -1L}) {
                ProbeKernel next = new ProbeKernel(pager.target());
                streams.add(next);
                next.send(hello(resume.toBuilder().setAttempt(attempt).build()));
                PagerToKernel answer = next.awaitOrEnd();
                assertThat(answer).as("attempt %s: the stream ended %s", Long.toUnsignedString(attempt),
                        next.end.getNow(null)).isNotNull();
                assertThat(answer.getPagerWelcome().getResumed()).isTrue();
                assertThat(reason(current.end.get(30, TimeUnit.SECONDS))).isEqualTo("ESTALE");
                current = next;
            }
            try (ProbeKernel lower = new ProbeKernel(pager.target())) {
                lower.send(hello(resume.toBuilder().setAttempt(5).build()));
                assertThat(reason(lower.end.get(30, TimeUnit.SECONDS))).as("an attempt below 2^64-1")
                        .isEqualTo("ESTALE");
            }
            assertThat(current.barrier()).isEmpty();
            assertThat(current.end).isNotDone();
        } finally {
            streams.forEach(ProbeKernel::close);
        }
    }
}
