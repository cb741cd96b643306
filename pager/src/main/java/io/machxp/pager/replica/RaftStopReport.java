package io.machxp.pager.replica;

import java.io.UncheckedIOException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.ratis.server.DivisionInfo;

/**
 * Ratis closes a replica's Raft server on its own when its applying thread fails: the replica
 * then neither votes, follows nor leads, though its process runs on. Said once, as an error an
 * operator can act on ({@link ReplicatedPager}'s ticker thread looks every few milliseconds).
 */
final class RaftStopReport {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicatedPager.class);
    /** Whether it has been said (only the ticker thread reads and writes it). */
    private boolean reported;

    /** Says it if the Raft server of {@code who} ("pager P replica R") stopped while the replica was not closed. */
    void check(BooleanSupplier closed, Supplier<DivisionInfo> info, String who) {
        if (closed.getAsBoolean() || reported) {
            return;
        }
        String state;
        try {
            DivisionInfo i = info.get();
            if (i.isAlive()) {
                return;
            }
            state = String.valueOf(i.getLifeCycleState());
        } catch (UncheckedIOException e) {
            state = "gone (" + e.getMessage() + ")";
        }
        if (closed.getAsBoolean()) {
            return;
        }
        reported = true;
        log.error("{}: its Raft server stopped on its own ({}): this replica no longer votes, follows or leads; the "
                + "cause is logged above; restart this replica", who, state);
    }
}
