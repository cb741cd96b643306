package io.machxp.pager.replica;

import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.LeaderStarted;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.Tick;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the leader of a replicated pager appends of its own accord, besides its kernels' messages,
 * in this order of priority, one entry at a time:
 * <pre>
 *  genesis          until its replica has applied one (the first one applied builds every
 *                   replica's core, later ones are ignored, their clock too; Raft takes entries
 *                   only once a new leader is ready, so it is tried until taken); never once the
 *                   applied log holds one ({@link ReplicaCore#genesisSeen}), whether or not it
 *                   built a core here (a replica whose genesis failed stops its Raft server)
 *  leader_started   until one of its own term is applied: every live session's lease runs a
 *                   full lease from the takeover (core/LeaderTakeover); the leader takes kernels
 *                   only after it ({@link #announced}), so it is the term's first entry of the
 *                   pager's and comes before any tick of the term
 *  tick             whenever the core's first timer is due by the group clock, so that leases run
 *                   out at the same point of the log on every replica
 * </pre>
 * The real replica ({@link ReplicatedPager}) calls {@link #check} every few milliseconds; the
 * simulator's modelled group does the same in virtual time.
 */
public final class LeaderTicker {
    private final ReplicaCore replica;
    private final AtomicBoolean inFlight = new AtomicBoolean();

    public LeaderTicker(ReplicaCore replica) {
        this.replica = replica;
    }

    /**
     * Appends a genesis, a leader_started or a tick through {@code append} if one is due at
     * {@code groupNow} for a leader of {@code term} and none is on its way; {@code genesis} makes
     * the genesis (its seed and epoch are the caller's).
     */
    public void check(long groupNow, long term, Supplier<Genesis.Builder> genesis,
            Function<PagerLogEntry.Builder, CompletableFuture<Boolean>> append) {
        if (replica.genesisFailed() != null || (replica.genesisSeen() && !replica.ready())) {
            return; // the log has a genesis that built no core here: never a second one
        }
        boolean genesisDue = !replica.genesisSeen();
        boolean startDue = !genesisDue && !announced(term);
        if ((genesisDue || startDue || replica.nextDue() <= groupNow) && inFlight.compareAndSet(false, true)) {
            PagerLogEntry.Builder entry = genesisDue ? PagerLogEntry.newBuilder().setGenesis(genesis.get())
                    : startDue ? PagerLogEntry.newBuilder().setLeaderStarted(LeaderStarted.newBuilder().setTerm(term))
                    : PagerLogEntry.newBuilder().setTick(Tick.getDefaultInstance());
            append.apply(entry).whenComplete((ok, e) -> inFlight.set(false));
        }
    }

    /** Whether an entry this ticker appended is on its way (none is appended until it is answered). */
    public boolean inFlight() {
        return inFlight.get();
    }

    /** Whether the leader of {@code term} has its leader_started applied here: it may take kernels. */
    public boolean announced(long term) {
        return replica.ready() && replica.leaderStartedTerm() >= term;
    }
}
