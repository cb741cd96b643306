package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * A restarted pager has forgotten which kernel ids it gave; a stored futex word may still carry a
 * TID of a kernel that did not reclaim (docs/xp-spec.md 2.5, Across a restart). Chaos contended
 * seed 962's shape: kernel k2 (id 1) held the futex with its TID 0x100001 in the stored word and
 * died across the restart; the new kernel k3 was given id 1, its thread 0x100001 then read as the
 * word's owner (ESRCH for its lockers, EDEADLK for that thread).
 */
class RestartIdReuseTest {
    private static final long LEASE = 1_000_000_000L;
    private final MemoryPageStore disk = new MemoryPageStore();

    private static int welcomedId(XpKernels x, long session, String name) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1)));
        PagerToKernel first = x.take(session).get(0);
        assertThat(first.hasPagerWelcome()).as("%s welcomed: %s", name, first).isTrue();
        return first.getPagerWelcome().getKernelId();
    }

    @Test
    void aNewKernelIsNotGivenTheIdAStoredWordStillCarries() {
        XpKernels first = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long a = first.kernel(1, "A");
        first.lockFutex(a, 0);
        assertThat(first.take(a)).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        // A's thread 0x100001 owns the futex, waiters set, and the page came back so (a flush); then the crash.
        byte[] page = new byte[PAGE];
        int word = 0x80100001;
        for (int i = 0; i < 4; i++) {
            page[i] = (byte) (word >>> (8 * i));
        }
        disk.write("obj", 0, page);

        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        second.advance(LEASE); // grace ends: A did not reclaim
        assertThat(welcomedId(second, 2, "B")).as("B must not get A's id: its TID is in the word").isNotEqualTo(1);
        assertThat(welcomedId(second, 3, "A")).as("A, back, is not given the id its dead threads' TIDs may still be in words under (late12 MED-1)").isNotEqualTo(1);
    }
}
