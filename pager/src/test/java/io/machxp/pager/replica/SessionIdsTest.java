package io.machxp.pager.replica;

import static io.machxp.pager.replica.TwoKernels.A;
import static io.machxp.pager.replica.TwoKernels.B;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.PagerLogEntry;
import org.junit.jupiter.api.Test;

/**
 * Session ids are never given twice (ratis review, finding 3): a term's count never starts over
 * for an older term, and a core given a session_opened of an id it has keeps the open session.
 */
class SessionIdsTest {
    /** An XP thread that read term 6 before an election asks after ids of term 7 were drawn: refused. */
    @Test
    void anOlderTermIsRefusedAndANewerTermsIdsAreNeverGivenAgain() {
        SessionIds ids = new SessionIds();
        long first = ids.next(7);
        assertThatThrownBy(() -> ids.next(6)).isInstanceOf(IllegalStateException.class).hasMessageContaining("term 6");
        long second = ids.next(7);
        assertThat(second).isNotEqualTo(first).isEqualTo(7L << 32 | 2);
        assertThat(ids.next(8)).isEqualTo(8L << 32 | 1);
    }

    /**
     * A second session_opened of A's id: A's session (holding the futex) is kept, not replaced;
     * nothing more of the id's stream is applied, its stream ends, and snapshots still work.
     */
    @Test
    void aDuplicateSessionOpenedKeepsTheOpenSession() {
        TwoKernels.Told out = new TwoKernels.Told();
        ReplicaCore r = TwoKernels.core(out);
        r.apply(TwoKernels.genesis(1, Genesis.newBuilder()));
        TwoKernels.aHoldsBWaits(2).forEach(r::apply);
        var before = r.snapshot().getCore();
        r.apply(TwoKernels.opened(20, A));
        PagerLogEntry hello = TwoKernels.xp(21, A, TwoKernels.hello("C"));
        r.apply(hello.toBuilder().setKernelMessage(hello.getKernelMessage().toBuilder().setIndex(1)).build()); // not applied
        assertThat(out.said).contains(A + " ended EIO");
        assertThat(out.said).noneMatch(s -> s.startsWith(A + " PAGER_WELCOME") && out.said.indexOf(s) > 3);
        assertThat(r.snapshot().getCore().getSessionsList()).as("A's session as it was: it holds the futex, B waits")
                .isEqualTo(before.getSessionsList());
        assertThat(r.core().sessionCount()).isEqualTo(2);
        assertThat(out.granted(B)).isFalse();
    }
}
