package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertDowngrade;
import static io.machxp.pager.page.XpKernels.assertFlush;
import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.assertWriteCopy;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The answer deadline (AnswerDeadlines), on a clock the test moves: a kernel that keeps its lease
 * with keepalives but never answers a lock_request or a trylock's relinquish has its session ended
 * at the deadline, and what it held goes to the others only when the lease it may still believe
 * in has ended, as at any lease's end; a kernel that answers slowly but steadily is not ended.
 */
class AnswerDeadlineTest {
    private static final long LEASE = 1_000_000_000L;
    private static final long DEADLINE = 3 * LEASE;
    private static final long STEP = LEASE / 4;

    private final XpKernels x = new XpKernels(new MemoryPageStore(),
            new PagerOptions(LEASE, 3).withAnswerDeadline(DEADLINE));
    private long now;
    private long sequence;

    /** A quarter lease passes; the kernels given send their keepalives at its end. */
    private void quarter(long... talking) {
        x.advance(STEP);
        now += STEP;
        sequence++;
        for (long s : talking) {
            x.keepalive(s, sequence);
        }
    }

    /** What the pager sent the session since the last take, keepalive answers left out. */
    private List<PagerToKernel> taken(long s) {
        return x.take(s).stream().filter(m -> !m.hasPagerKeepalive()).toList();
    }

    @Test
    void aKernelThatKeepsItsLeaseButNeverAnswersALockRequestIsEndedAndThePageGoesOnWhenItsLeaseEnds() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        x.write(a, 0);
        x.take(a);
        x.returnDirty(a, 0, page(1), true); // the pager's copy; A writes on and never returns again
        x.read(b, 0);
        assertDowngrade(x.one(a), 0);
        long lastHeardA = 0;
        while (now < DEADLINE - STEP) {
            quarter(a, b);
            lastHeardA = now;
        }
        assertThat(x.ended).as("before the deadline").isEmpty();
        quarter(a, b); // the deadline passes at the start of this quarter, before A's keepalive
        assertThat(x.ended).containsOnlyKeys(a);
        assertThat(x.ended.get(a)).startsWith("ETIMEDOUT").contains("memory_object_lock_request for")
                .contains("3000 ms").contains("lease ends");
        assertThat(x.stats.answersOverdue()).isEqualTo(1);
        assertThat(x.declaredDead).as("ended, not dead: A may still use the page").isEmpty();
        long fenced = x.stats.fenced();
        while (now + STEP < lastHeardA + LEASE) {
            quarter(a, b); // A's keepalives no longer count
            assertThat(taken(b)).as("B at %d ms, within A's lease", now / 1_000_000).isEmpty();
        }
        assertThat(x.stats.fenced()).as("A's keepalives after the end").isGreaterThan(fenced);
        quarter(a, b);
        assertThat(now).isEqualTo(lastHeardA + LEASE);
        assertThat(x.declaredDead).containsKey("A");
        List<PagerToKernel> got = taken(b);
        assertThat(got).hasSize(1);
        assertReadCopy(got.get(0), 0, page(1)); // the pager's copy: A's later writes are lost with it
    }

    @Test
    void aHolderThatNeverAnswersATrylockIsEndedAndItsFutexGoesOnWithOwnerDiedWhenItsLeaseEnds() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        long c = x.kernel(3, "C");
        x.lockFutex(a, 0);
        assertThat(x.one(a).hasMemoryObjectFutexGranted()).isTrue();
        x.xp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(OBJ).setOffset(0).setTry(true)));
        x.lockFutex(c, 0);
        assertThat(x.take(a)).as("relinquish(try), then relinquish").hasSize(2)
                .allMatch(PagerToKernel::hasMemoryObjectRelinquishFutex);
        long lastHeardA = 0;
        while (now < DEADLINE - STEP) {
            quarter(a, b, c);
            lastHeardA = now;
        }
        assertThat(x.ended).isEmpty();
        quarter(a, b, c);
        assertThat(x.ended).containsOnlyKeys(a);
        assertThat(x.ended.get(a)).startsWith("ETIMEDOUT").contains("relinquish_futex (try)");
        assertThat(taken(b)).as("the trylock does not wait for a lease").singleElement()
                .matches(PagerToKernel::hasMemoryObjectFutexBusy);
        while (now + STEP < lastHeardA + LEASE) {
            quarter(a, b, c);
            assertThat(taken(c)).as("C at %d ms, within A's lease", now / 1_000_000).isEmpty();
            assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
        }
        quarter(a, b, c);
        List<PagerToKernel> got = taken(c);
        assertThat(got).singleElement().matches(PagerToKernel::hasMemoryObjectFutexGranted);
        assertThat(got.get(0).getMemoryObjectFutexGranted().getOwnerDied()).as("A died holding it").isTrue();
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("C");
    }

    @Test
    void answeringRequestsSentAfterOneItSkipsDoesNotPutOffThatOnesDeadline() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        long c = x.kernel(3, "C");
        x.write(a, 0);
        x.write(a, PAGE);
        x.take(a);
        x.read(b, 0);
        assertDowngrade(x.one(a), 0); // A never answers it (a kernel bug)
        long asked = now;
        long lastHeardA = 0;
        int version = 20;
        boolean cWrites = true;
        // Meanwhile C and A take turns writing page 1, each flush answered at once: A answers
        // requests sent after the downgrade, so it is not merely slow: it skipped that one.
        while (now < 4 * DEADLINE && x.ended.isEmpty()) {
            quarter(a, b, c);
            if (!x.ended.isEmpty()) {
                break;
            }
            lastHeardA = now;
            long writer = cWrites ? c : a;
            long holder = cWrites ? a : c;
            x.write(writer, PAGE);
            assertFlush(only(holder), PAGE);
            x.returnDirty(holder, PAGE, page(version), false);
            x.lockCompleted(holder, PAGE);
            assertWriteCopy(only(writer), PAGE, page(version));
            version++;
            cWrites = !cWrites;
            assertThat(taken(b)).as("B at %d ms", now / 1_000_000).isEmpty();
        }
        assertThat(x.ended).as("A skipped the downgrade for %d ms", (now - asked) / 1_000_000).containsOnlyKeys(a);
        assertThat(now).isEqualTo(asked + DEADLINE);
        assertThat(x.ended.get(a)).startsWith("ETIMEDOUT").contains("memory_object_lock_request for")
                .contains("obj");
        while (now + STEP < lastHeardA + LEASE) {
            quarter(a, b, c);
            assertThat(taken(b)).as("B at %d ms, within A's lease", now / 1_000_000).isEmpty();
        }
        quarter(a, b, c);
        assertThat(x.declaredDead).containsKey("A");
        assertThat(taken(b)).as("B's read, once A's lease ended").singleElement()
                .matches(m -> m.hasMemoryObjectDataSupply() || m.hasMemoryObjectDataUnavailable());
    }

    @Test
    void answeringOtherTrylocksDoesNotPutOffTheDeadlineOfOneItSkips() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        long c = x.kernel(3, "C");
        x.lockFutex(a, 0);
        x.lockFutex(a, 8);
        assertThat(x.take(a)).hasSize(2).allMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        tryLock(b, 0);
        assertThat(x.one(a).getMemoryObjectRelinquishFutex().getTry()).isTrue(); // never answered
        long asked = now;
        long lastHeardA = 0;
        while (now < 4 * DEADLINE && x.ended.isEmpty()) {
            quarter(a, b, c);
            if (!x.ended.isEmpty()) {
                break;
            }
            lastHeardA = now;
            tryLock(c, 8); // A answers this one at once, each time: a thread there owns it
            PagerToKernel relinquish = only(a);
            assertThat(relinquish.getMemoryObjectRelinquishFutex().getOffset()).isEqualTo(8);
            x.xp(a, KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                    .setObjectId(OBJ).setOffset(8).setFencingToken(x.pager.fencingToken("obj", 8))));
            assertThat(taken(c)).singleElement().matches(PagerToKernel::hasMemoryObjectFutexBusy);
        }
        assertThat(x.ended).as("A skipped the trylock for %d ms", (now - asked) / 1_000_000).containsOnlyKeys(a);
        assertThat(now).isEqualTo(asked + DEADLINE);
        assertThat(x.ended.get(a)).startsWith("ETIMEDOUT").contains("relinquish_futex (try)");
        assertThat(taken(b)).as("the trylock does not wait for a lease").singleElement()
                .matches(PagerToKernel::hasMemoryObjectFutexBusy);
        assertThat(lastHeardA).isEqualTo(asked + DEADLINE - STEP);
    }

    /** The one message the pager sent the session since the last take, keepalive answers left out. */
    private PagerToKernel only(long s) {
        List<PagerToKernel> got = taken(s);
        assertThat(got).as("messages to session %d", s).hasSize(1);
        return got.get(0);
    }

    private void tryLock(long s, long offset) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setTry(true)));
    }

    @Test
    void aKernelThatAnswersSlowlyButSteadilyIsNotEnded() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        for (int i = 0; i < 4; i++) {
            x.write(a, (long) i * PAGE);
        }
        x.take(a);
        x.xp(b, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(OBJ).setOffset(0).setLength(4L * PAGE).setDesiredAccess(VmProt.VM_PROT_READ_WRITE)));
        List<PagerToKernel> asked = x.take(a);
        assertThat(asked).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertFlush(asked.get(i), (long) i * PAGE);
        }
        // One page answered every 2.5 s (the deadline is 3 s): all four take 10 s, past three deadlines.
        for (int i = 0; i < 4; i++) {
            for (int q = 0; q < 10; q++) {
                quarter(a, b);
            }
            long offset = (long) i * PAGE;
            x.returnDirty(a, offset, page(10 + i), false);
            x.lockCompleted(a, offset);
            List<PagerToKernel> got = taken(b);
            assertThat(got).hasSize(1);
            assertWriteCopy(got.get(0), offset, page(10 + i));
        }
        assertThat(now).isGreaterThan(3 * DEADLINE);
        for (int q = 0; q < 4 * DEADLINE / STEP; q++) {
            quarter(a, b); // owing nothing, A is not watched any more
        }
        assertThat(x.ended).isEmpty();
        assertThat(x.stats.answersOverdue()).isZero();
    }

    @Test
    void aRequestSentLongAfterAnEarlierAnswerHasAWholeDeadline() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        x.write(a, 0);
        x.take(a);
        x.read(b, 0);
        assertDowngrade(x.one(a), 0);
        quarter(a, b);
        x.lockCompleted(a, 0); // answered at once; the check set for it is still pending
        assertThat(taken(b)).as("B's read answered").hasSize(1);
        while (now < DEADLINE - 2 * STEP) {
            quarter(a, b);
        }
        x.take(a);
        x.write(b, 0); // A is asked again, a quarter before the first check is due
        assertFlush(taken(a).get(0), 0);
        long asked = now;
        while (now < asked + DEADLINE - STEP) {
            quarter(a, b);
            assertThat(x.ended).as("at %d ms, the second request asked at %d ms", now / 1_000_000,
                    asked / 1_000_000).isEmpty();
        }
        quarter(a, b);
        assertThat(x.ended).containsOnlyKeys(a);
    }

    @Test
    void onAClockBelowZeroTheDeadlineStillCountsFromTheRequest() {
        // System.nanoTime may be negative: a kernel that never answered must not count as having
        // answered at time 0 (as 'never' was once stored), which put its deadline off until then.
        XpKernels y = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3).withAnswerDeadline(DEADLINE),
                -1000 * DEADLINE);
        long a = y.kernel(1, "A");
        long b = y.kernel(2, "B");
        y.write(a, 0);
        y.take(a);
        y.read(b, 0);
        assertDowngrade(y.one(a), 0);
        for (int q = 1; q <= DEADLINE / STEP; q++) {
            assertThat(y.ended).as("at %d ms", (q - 1) * STEP / 1_000_000).isEmpty();
            y.advance(STEP);
            y.keepalive(a, q);
            y.keepalive(b, q);
        }
        assertThat(y.ended).as("at the deadline").containsOnlyKeys(a);
    }

    @Test
    void withoutALeaseThereIsNoDeadline() {
        XpKernels y = new XpKernels(new MemoryPageStore(), new PagerOptions(0, 3).withAnswerDeadline(DEADLINE));
        long a = y.kernel(1, "A");
        long b = y.kernel(2, "B");
        y.write(a, 0);
        y.take(a);
        y.read(b, 0);
        assertDowngrade(y.one(a), 0);
        y.advance(10 * DEADLINE); // an end would fail the test (XpKernels without a lease)
        assertThat(y.ended).isEmpty();
        y.nothingTo(b);
        assertThat(y.pager.pageWriter("obj", 0)).isEqualTo("A");
    }
}
