package io.machxp.kernel;

import java.util.List;

/**
 * Which replica of one pager (its --pager entry "host:port+host:port+...", xp-spec 13) a kernel's
 * next connection to it goes to: the leader a replica last named, or the next in the list after
 * one whose stream failed. One per pager for the kernel's whole life, shared by the links of its
 * successive sessions: a kernel that opens a new session (its lease ran out) or starts again goes
 * on where the last link left off, not at the head of its list, which may be the replica that
 * died. One replica for an unreplicated pager. Core thread (volatile for the kernel's start).
 *
 * <p>A redirect is followed only to an entry of the kernel's own list ({@link #leader}): the
 * address the replica names if the list has it, else the entry an earlier redirect showed that
 * replica id to have (a replica's --replicas may spell addresses otherwise than the kernel's
 * --pager: NAT, DNS names, a TLS certificate for a name). A leader at no entry of the list is
 * not followed: the kernel tries the next replica of its list, as when no leader is known.
 */
final class ReplicaChoice {
    private final List<String> replicas;
    private volatile String current;
    /** Replica id to its entry of {@link #replicas}, learned from redirects that named a listed address. */
    private final java.util.Map<String, String> entryOfId = new java.util.HashMap<>();
    /** Whether a leader at no entry of the list was said at WARN (once; later ones at DEBUG). */
    private boolean unlistedSaid;

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

    /**
     * The stream to {@code failed} broke: the next connection tries the replica after it in the
     * list (after the current one if {@code failed} is not in the list).
     */
    String next(String failed) {
        int i = replicas.indexOf(failed);
        if (i < 0) {
            i = replicas.indexOf(current);
        }
        current = replicas.get((i + 1) % replicas.size());
        return current;
    }

    /**
     * A replica named the leader, at {@code address}, replica {@code id} (empty if not said): the
     * entry of the list the next connections go to, which becomes the current one; null if neither
     * the address nor the id leads to an entry (the caller tries the next replica).
     */
    String leader(String address, String id) {
        String entry = null;
        if (replicas.contains(address)) {
            entry = address;
            if (!id.isEmpty()) {
                entryOfId.put(id, address);
            }
        } else if (!id.isEmpty()) {
            entry = entryOfId.get(id);
        }
        if (entry != null) {
            current = entry;
        }
        return entry;
    }

    /** Whether a leader at no entry of the list is to be said at WARN: the first time only. */
    boolean sayUnlisted() {
        boolean first = !unlistedSaid;
        unlistedSaid = true;
        return first;
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
