package io.machxp.pager.core;

import io.machxp.proto.xp.PagerDirectoryView;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The pager directory views the open sessions stated (xp-spec 2.8), each distinct view kept once
 * ({@link StatedView}, parsed once) with the sessions that stated it, and, for each object this
 * pager serves, how many of those views send it to another pager. The directory checks
 * ({@link DirectoryViews}) read them: an init of an object no view sends elsewhere costs a look-up,
 * whatever the sessions and their views (xpreview-review HIGH-1: every init scanned every
 * session's assignments); a hello compares its view with the views, not with each session's.
 * <pre>
 *  {@link #intern}(view)      the live view equal to it, else a new parse of it (not kept yet)
 *  {@link #state}(s, view)    s states it: a view no open session stated before becomes live (its
 *                     bytes count, its objects sent elsewhere are counted)
 *  {@link #left}(s)           s is no longer open (forgotten, retired, or a resume's stream that
 *                     carried only the hello): a view no open session states any more goes
 * </pre>
 * The views kept are bounded: {@link #MAX_BYTES} of distinct views (serialized) in all, shared
 * among the sessions' peers ({@link ViewShares}: a peer an eighth of 7/8 of it, or one view;
 * rv58-review MED-2); a hello stating another distinct view past the bound or its peer's
 * share is refused ({@link #refusal}, EAGAIN), except a resume's or a reclaim's, whose kernel used
 * this pager before (their views may pass the bounds, and count to their peers). Derived
 * state: rebuilt from the sessions' stated views when a snapshot is restored, never in one; what
 * it decides (a refusal at the bound, which session an init's refusal names) depends only on the
 * open sessions and their views, never on its history. Pager core thread only.
 */
final class StatedViews {
    /**
     * The most bytes (serialized) of distinct stated views the pager keeps: eight of the largest a
     * hello carries (4 MiB, gRPC's message bound); a cluster whose kernels were given the same
     * directory states one.
     */
    static final long MAX_BYTES = 32L << 20;

    private final long maxBytes;
    /** The objects the pager serves (fixed at start). */
    private final Collection<String> served;
    /** What the checks look at of other kernels' views and sessions ({@link PagerStats#directoryExamined}). */
    final LongAdder examined;
    /** The live views (stated by an open session), by their stated form ({@link Key}). */
    private final Map<Key, StatedView> live = new HashMap<>();
    /** For each object served that some live view sends to another pager: how many do. */
    private final Map<String, Integer> elsewhere = new HashMap<>();
    /** The bytes of the live views. */
    private long bytes;
    /** The live views' bytes by the peers whose sessions state them. */
    private final ViewShares shares;

    StatedViews(Collection<String> served, LongAdder examined) {
        this(served, examined, MAX_BYTES);
    }

    StatedViews(Collection<String> served, LongAdder examined, long maxBytes) {
        this.served = served;
        this.examined = examined;
        this.maxBytes = maxBytes;
        this.shares = new ViewShares(maxBytes);
    }

    /**
     * The live view equal to {@code view}, else a new parse of it ({@link StatedView#invalid} says
     * whether it may be kept), kept once a session states it ({@link #state}). One pass over the
     * assignments for the hash, one more to compare with a live view of that hash, or to parse a new
     * one; never protobuf's own hashCode (its first call builds the descriptors of all of xp.proto
     * on the core thread: ~0.1 s of CPU, xpreview-review HIGH-1b).
     */
    StatedView intern(PagerDirectoryView view) {
        examined.increment(); // one view compared, whatever the sessions that state it
        int hash = hash(view);
        StatedView v = live.get(new Key(view, hash));
        return v != null ? v : new StatedView(view, hash);
    }

    /** The hash of a view's stated form: its count, index and assignments (their Strings' hashes). */
    static int hash(PagerDirectoryView v) {
        int h = 31 * v.getPagerCount() + v.getPagerIndex();
        int n = v.getAssignmentsCount();
        for (int i = 0; i < n; i++) {
            h = 31 * h + v.getAssignments(i).hashCode();
        }
        return h;
    }

    /**
     * A view's stated form as the key of the views kept: equal when count, index, assignments (in
     * their order) and any fields of a newer protocol are; its hash computed once ({@link #hash}).
     */
    private record Key(PagerDirectoryView view, int hash) {
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Key k) || k.hash != hash) {
                return false;
            }
            PagerDirectoryView a = view;
            PagerDirectoryView b = k.view;
            return a == b || (a.getPagerCount() == b.getPagerCount() && a.getPagerIndex() == b.getPagerIndex()
                    && a.getAssignmentsList().equals(b.getAssignmentsList())
                    && a.getUnknownFields().equals(b.getUnknownFields()));
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private static Key key(StatedView v) {
        return new Key(v.proto, v.hash);
    }

    /**
     * Why a kernel whose session has no peer may not state {@code v} here, a sentence (EAGAIN: it
     * may later), or null: it is live already, or its bytes fit beside the live views'.
     */
    String refusal(StatedView v, String kernelName, String pager) {
        return refusal(v, kernelName, pager, null);
    }

    /**
     * Why a kernel whose session's peer is {@code peer} (null: none) may not state {@code v} here,
     * a sentence (EAGAIN), or null: it is live already and the peer holds it, or its bytes fit
     * beside the live views' and within the peer's share ({@link ViewShares#refusal}).
     */
    String refusal(StatedView v, String kernelName, String pager, String peer) {
        boolean live = live(v);
        if (!live && bytes + v.bytes > maxBytes) {
            return full(v, kernelName, pager);
        }
        return peer == null ? null : shares.refusal(peer, v, live, bytes, kernelName, pager);
    }

    private String full(StatedView v, String kernelName, String pager) {
        return "pager " + DirectoryViews.shownPager(pager) + " keeps " + live.size() + " distinct pager directories "
                + "its kernels stated, " + bytes + " bytes, and takes no other past " + maxBytes + " bytes: kernel '"
                + kernelName + "' stated another, of " + v.bytes + " bytes. Kernels given the same --pager list and "
                + "--object-pagers state the same one (docs/multi-pager.md); connect again once the kernels with "
                + "other directories have left";
    }

    /** Session {@code s} states {@code v} (an {@link #intern}'s): kept while an open session states it. */
    void state(KernelSession s, StatedView v) {
        left(s);
        StatedView kept = live.get(key(v));
        if (kept == null) {
            kept = v;
            live.put(key(v), v);
            bytes += v.bytes;
            for (String object : served) {
                if (!v.sendsHere(object)) {
                    elsewhere.merge(object, 1, Integer::sum);
                }
            }
        }
        if (kept.sessions.add(s) && s.peer != null) {
            shares.stated(s.peer, kept);
        }
        s.directory = kept;
    }

    /** Session {@code s} is no longer open: a view no open session states goes. */
    void left(KernelSession s) {
        StatedView v = s.directory;
        if (v == null || !v.sessions.remove(s)) {
            return;
        }
        if (s.peer != null) {
            shares.unstated(s.peer, v);
        }
        if (!v.sessions.isEmpty() || live.get(key(v)) != v) {
            return;
        }
        live.remove(key(v));
        bytes -= v.bytes;
        for (String object : served) {
            if (!v.sendsHere(object)) {
                elsewhere.computeIfPresent(object, (o, n) -> n == 1 ? null : n - 1);
            }
        }
    }

    /**
     * Session {@code s}'s stream now comes from {@code peer} (a resume on a stream of another
     * peer): the view it states counts to that peer from now on.
     */
    void moved(KernelSession s, String peer) {
        if (java.util.Objects.equals(s.peer, peer)) {
            return;
        }
        StatedView v = s.directory;
        boolean stating = v != null && v.sessions.contains(s);
        if (stating && s.peer != null) {
            shares.unstated(s.peer, v);
        }
        s.peer = peer;
        if (stating && peer != null) {
            shares.stated(peer, v);
        }
    }

    /** What {@code peer}'s sessions' views take ({@link ViewShares}): bytes, or 0. */
    long bytesOf(String peer) {
        ViewShares.Held h = shares.of(peer);
        return h == null ? 0 : h.bytes;
    }

    /** The bytes of the live views some session with a peer states, each once. */
    long peersBytes() {
        return shares.remote();
    }

    /** Whether {@code v} is the live view (an open session stated it: it was found valid then). */
    boolean live(StatedView v) {
        return live.get(key(v)) == v;
    }

    /** Whether some open session's view sends {@code object} to another pager (one look-up). */
    boolean sentElsewhere(String object) {
        return elsewhere.containsKey(object);
    }

    /** The live views. */
    Collection<StatedView> views() {
        return live.values();
    }

    /**
     * The welcomed open sessions of names other than {@code kernelName} whose views are not
     * {@code view}, in session id order (each view and session looked at counts as examined).
     */
    List<KernelSession> others(String kernelName, StatedView view) {
        List<KernelSession> others = new ArrayList<>();
        for (StatedView v : live.values()) {
            if (v == view) {
                continue;
            }
            examined.increment();
            for (KernelSession o : v.sessions) {
                examined.increment();
                if (!o.gone && o.kernelName != null && !o.kernelName.equals(kernelName)) {
                    others.add(o);
                }
            }
        }
        others.sort(Comparator.comparingLong(o -> o.id));
        return others;
    }

    /** The bytes of the live views. */
    long bytes() {
        return bytes;
    }

    /** How many sessions state a live view, for the invariants' check against the open sessions. */
    int statingSessions() {
        int n = 0;
        for (StatedView v : live.values()) {
            n += v.sessions.size();
        }
        return n;
    }
}
