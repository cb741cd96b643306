package io.machxp.pager.replica;

import java.util.concurrent.CompletionException;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;

/**
 * An append the leader's Raft server refused because its pending-write limits were reached
 * ({@code raft.server.write.element-limit} and {@code byte-limit}, {@link RaftSettings}): nothing
 * was appended, and the replica still leads. Not a loss of leadership: the leader keeps its
 * appender (a refused request leaves no entry, so the appender's entries still form a run with no
 * hole) and the stream ends UNAVAILABLE with ErrorInfo EAGAIN saying so; the kernel resumes here
 * and sends again what the log did not take. The windows' budget ({@link AppendBudget}) keeps the
 * kernels' messages under those limits, so this is for what it does not count (review late10 M2:
 * before, the refusal was taken for a lost leadership, the appender replaced, and the kernel told
 * the leader had changed). Taken so only while the replica still leads the appender's term and is
 * ready ({@link ReplicatedPager}): Ratis refuses alike an append racing a step-down (it closes the
 * pending-write semaphore as the leader state stops), which is a lost leadership (review tb LOW-3).
 */
final class AppendRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private AppendRefused(String why, Throwable cause) {
        super(why, cause, false, false);
    }

    /** Throws an AppendRefused if the append's outcome ({@code reply}, {@code error}) is Ratis's refusal for load. */
    static void throwIfRefused(RaftClientReply reply, Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e == null && reply != null) {
            e = reply.getException();
        }
        if (e instanceof ResourceUnavailableException r) {
            throw new AppendRefused("the leader's Raft log has too many writes pending (" + r.getMessage() + ")", r);
        }
    }

    /** The refusal in {@code error} (a stage's, possibly wrapped), or null if it is none. */
    static AppendRefused of(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause()) {
            if (e instanceof AppendRefused r) {
                return r;
            }
        }
        return null;
    }
}
