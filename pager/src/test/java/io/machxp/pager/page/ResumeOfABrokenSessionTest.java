package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Resume;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 4.7: a session whose stream the pager saw end while it held a futex is broken (4.4) and
 * cannot be resumed; the refusal says what the kernel can do instead: wait for the lease to end,
 * then open a new session (the reviewer's F7: it said "it opens a new session", which its name is
 * refused until then).
 */
class ResumeOfABrokenSessionTest {
    private static final long LEASE = 2_000_000_000L;
    private final XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);

    @Test
    void theRefusalOfABrokenSessionsResumeNamesTheLeaseLeft() {
        k.pager.sessionOpened(1);
        k.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setResumable(true)));
        PagerWelcome w = k.one(1).getPagerWelcome();
        assertThat(w.getSessionToken()).isNotZero();
        k.xp(1, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(XpKernels.OBJ)
                .setName("obj").setPageSize(XpKernels.PAGE)));
        k.lockFutex(1, 0);
        k.take(1);
        k.pager.sessionClosed(1); // the stream breaks while A holds the futex
        k.advance(LEASE / 4);
        k.pager.sessionOpened(2);
        k.xp(2, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setResumable(true).setResume(Resume.newBuilder().setKernelId(w.getKernelId())
                        .setSessionToken(w.getSessionToken()).setAttempt(1))));
        assertThat(k.ended.get(2L)).startsWith("ESTALE").contains("so it left every queue; that session ends when "
                + "its lease runs out in 1500 ms, and the kernel may then open a new one under its name")
                .doesNotContain("it opens a new session");
    }
}
