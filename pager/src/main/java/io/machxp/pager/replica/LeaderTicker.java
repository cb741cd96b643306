package io.machxp.pager.replica;

import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.Tick;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the leader of a replicated pager appends of its own accord, besides its kernels' messages:
 * until its replica has applied a genesis, a genesis (the first one applied builds every
 * replica's core, later ones are ignored; Raft takes entries only once a new leader is ready, so
 * it is tried until taken); then a tick whenever the core's first timer is due by the group clock,
 * so that leases run out at the same point of the log on every replica. One entry at a time.
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
     * Appends a genesis or a tick through {@code append} if one is due at {@code groupNow} and
     * none is on its way; {@code genesis} makes the genesis (its seed and epoch are the caller's).
     */
    public void check(long groupNow, Supplier<Genesis.Builder> genesis,
            Function<PagerLogEntry.Builder, CompletableFuture<Boolean>> append) {
        boolean genesisDue = !replica.ready();
        if ((genesisDue || replica.nextDue() <= groupNow) && inFlight.compareAndSet(false, true)) {
            PagerLogEntry.Builder entry = genesisDue ? PagerLogEntry.newBuilder().setGenesis(genesis.get())
                    : PagerLogEntry.newBuilder().setTick(Tick.getDefaultInstance());
            append.apply(entry).whenComplete((ok, e) -> inFlight.set(false));
        }
    }
}
