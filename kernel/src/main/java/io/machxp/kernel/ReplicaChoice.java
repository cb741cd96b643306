package io.machxp.kernel;

import java.util.List;

/**
 * Which replica of one pager (its --pager entry "host:port+host:port+...", xp-spec 13) a kernel's
 * next connection to it goes to: the leader a replica last named, or the next in the list after
 * one whose stream failed. One per pager for the kernel's whole life, shared by the links of its
 * successive sessions: a kernel that opens a new session (its lease ran out) or starts again goes
 * on where the last link left off, not at the head of its list, which may be the replica that
 * died. One replica for an unreplicated pager. Core thread (volatile for the kernel's start).
 */
final class ReplicaChoice {
    private final List<String> replicas;
    private volatile String current;

    ReplicaChoice(String entry) {
        this.replicas = List.of(entry.split("\\+"));
        this.current = replicas.get(0);
    }

    List<String> replicas() {
        return replicas;
    }

    /** The replica the next connection goes to. */
    String current() {
        return current;
    }

    /** The stream to {@code failed} broke: the next connection tries the replica after it. */
    String next(String failed) {
        current = replicas.get((replicas.indexOf(failed) + 1) % replicas.size());
        return current;
    }

    /** A replica named {@code leader} as the leader: the next connections go there. */
    void leader(String leader) {
        current = leader;
    }

    /**
     * Whether a kernel's first session, refused with {@code errno} (null: a stream that broke
     * without the pager's word), is asked for again: EAGAIN (an earlier session of its name waits
     * for its lease), or, when a pager has several replicas, a replica not reached (the next
     * attempt goes to the next replica) or EEXIST: a hello the log took before its stream broke
     * (a leader change) opened a session the kernel never heard of, which its lease ends.
     */
    static boolean askAgain(List<ReplicaChoice> pagers, String errno) {
        boolean replicated = pagers.stream().anyMatch(c -> c.replicas.size() > 1);
        return "EAGAIN".equals(errno) || (replicated && (errno == null || "EEXIST".equals(errno)));
    }
}
