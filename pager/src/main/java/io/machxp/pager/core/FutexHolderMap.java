package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Who holds each futex, as the core's applied state says, published by the core's thread for one
 * other thread to read: a replicated pager's leader finds here, on its XP thread, whom to send an
 * early ask (memory_object_relinquish_futex_hint, xp-spec 13.6) when a kernel's lock_futex arrives,
 * before the group has committed it. Off (nothing kept, nothing costs) until a core is given one
 * ({@link PagerCore#publishHolders}).
 *
 * <h2>Overview</h2>
 * <pre>
 *  core thread (the applying thread)         what is published
 *  a grant to K (K took hints)                futex -> K's session, the grant's token, when its grant
 *                                               policy's lease is over for any priority
 *  the futex comes back (released, K gone)    its entry removed
 *  an object initialized (or reclaimed)       the session's id -> the object's name; if K takes hints
 *                                               and the object had no id, object -> this id
 *  an object id terminated                    that id removed; if it was the one K's futexes of the
 *                                               object are named by, one scan for the next one
 *  a session moves to a resume's stream       its published stream id is the new one
 *  a session ends                             its object ids removed (its futexes were released)
 *  a snapshot restored, or first published    everything published again from the state
 *
 *  other thread                               {@link #hintFor}: the holder of the futex a session's
 *                                               object id and offset name, if it is another kernel
 *                                               whose hello named "relinquish_hint", under the id
 *                                               the holder's session names the object by now
 * </pre>
 * The applying thread's work is the change's, never the session's: an init or a reclaimed object
 * costs two map updates, a terminate one scan of the session's objects only if it ends the id the
 * object was named by (nothing per futex held: a holder's id is read when a hint is asked for),
 * and a kernel that takes no hints has no holders published at all (only its object ids, which its
 * own requests are read by). {@link Holder#firstAsk} lets the leader hint once per grant.
 * What the other thread reads may be a little behind the core (it is only advice): a hint names
 * the grant it means by its token, and a kernel acts on it only if it holds the futex under that
 * grant (xp-spec 13.6), so a stale entry costs nothing but a dropped message.
 */
public final class FutexHolderMap {
    /** The name a kernel's hello gives this optional routine (kernel_hello.features). */
    public static final String FEATURE = "relinquish_hint";

    /** One session as published: the stream it is on now, and its object ids both ways. */
    public static final class Session {
        private volatile long streamId;
        /** Its object ids -> object names: what its own requests name. */
        private final ConcurrentHashMap<Integer, String> objects = new ConcurrentHashMap<>();
        /** Object name -> the id the pager names the object by to it (its first); only if it takes hints. */
        private final ConcurrentHashMap<String, Integer> namedBy = new ConcurrentHashMap<>();
        private final boolean takesHints;

        Session(long streamId, boolean takesHints) {
            this.streamId = streamId;
            this.takesHints = takesHints;
        }

        public long streamId() {
            return streamId;
        }
    }

    /** One grant as published: its holder's session, its fencing token, and whether it was hinted. */
    private record Grant(Session session, long token, long askableFromNanos, AtomicBoolean hinted) {}

    /**
     * A futex's holder as {@link #hintFor} found it: its session, its object id for the futex's
     * object, the grant's fencing token, and from when (group clock) the grant policy's lease no
     * longer keeps it from being asked for the futex, at any priority (Long.MAX_VALUE: never early).
     */
    public static final class Holder {
        private final Grant grant;
        private final int objectId;

        private Holder(Grant grant, int objectId) {
            this.grant = grant;
            this.objectId = objectId;
        }

        public Session session() {
            return grant.session;
        }

        public int objectId() {
            return objectId;
        }

        public long token() {
            return grant.token;
        }

        public long askableFromNanos() {
            return grant.askableFromNanos;
        }

        /**
         * True the first time it is asked of this grant, false after: one hint per grant, used up
         * even if the hint never reaches the kernel (a broken stream, a full one, the kernel in
         * lease grace). A grant published again unchanged (a reclaim) may be hinted once more.
         */
        public boolean firstAsk() {
            return grant.hinted.compareAndSet(false, true);
        }
    }

    private final ConcurrentHashMap<FutexKey, Grant> holders = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Session> byStream = new ConcurrentHashMap<>();
    /** The longest lease the core's grant policy gives a grant before it asks ({@code GrantLeases}). */
    private volatile long longestLeaseNanos = Long.MAX_VALUE;
    private final boolean on;
    /** Entries the core's thread looked at re-resolving ids (a seam for tests: work, not time). */
    private long work;

    /** A map to publish into (a replicated pager's). */
    public FutexHolderMap() {
        this(true);
    }

    private FutexHolderMap(boolean on) {
        this.on = on;
    }

    /** Publishes nothing: a core not given a map. */
    static final FutexHolderMap OFF = new FutexHolderMap(false);

    // ---- the other thread --------------------------------------------------------------------

    /**
     * The holder to hint when session {@code streamId} asks for the futex at {@code offset} of its
     * object {@code objectId}: held by another session whose kernel takes hints; null otherwise
     * (free, unknown, its own, a kernel without the feature).
     */
    public Holder hintFor(long streamId, int objectId, long offset) {
        Session asking = byStream.get(streamId);
        String object = asking == null ? null : asking.objects.get(objectId);
        Grant g = object == null ? null : holders.get(new FutexKey(object, offset));
        if (g == null || g.session == asking || !g.session.takesHints) {
            return null;
        }
        Integer id = g.session.namedBy.get(object);
        return id == null ? null : new Holder(g, id);
    }

    /** How many futexes are published as held (tests). */
    public int heldCount() {
        return holders.size();
    }

    /** Entries the core's thread has looked at re-resolving object ids (tests). */
    long work() {
        return work;
    }

    // ---- the core's thread -------------------------------------------------------------------

    /** The grant policy's longest lease, any priority ({@code GrantPolicy#longestRelinquishAfterNanos}). */
    void longestLease(long nanos) {
        longestLeaseNanos = nanos;
    }

    /** {@code f} was granted (its holder, token and grant time are set). */
    void held(FutexRecord f) {
        if (!on || f.holder == null) {
            return;
        }
        Session s = session(f.holder);
        if (!s.takesHints) {
            holders.remove(f.key); // never hinted: not published
            return;
        }
        long lease = longestLeaseNanos;
        long askable = lease == Long.MAX_VALUE || f.grantedNanos > Long.MAX_VALUE - lease ? Long.MAX_VALUE
                : f.grantedNanos + lease;
        holders.put(f.key, new Grant(s, f.token, askable, new AtomicBoolean()));
    }

    /** The futex came back to the pager (or is nobody's for a moment). */
    void freed(FutexKey key) {
        if (on) {
            holders.remove(key);
        }
    }

    /**
     * The session initialized {@code objectId} (an init taken, or a reclaim's object): ids are only
     * added after the others, so the object's naming id changes only if it had none.
     */
    void initialized(KernelSession s, int objectId) {
        MemoryObject o = s.objects.get(objectId);
        if (!on || o == null) {
            return;
        }
        Session p = session(s);
        p.objects.put(objectId, o.name());
        if (p.takesHints) {
            p.namedBy.putIfAbsent(o.name(), objectId);
        }
    }

    /** The session terminated {@code objectId}, which named {@code object} (gone from its objects already). */
    void terminated(KernelSession s, int objectId, String object) {
        if (!on) {
            return;
        }
        Session p = session(s);
        p.objects.remove(objectId);
        if (!p.takesHints || !Integer.valueOf(objectId).equals(p.namedBy.get(object))) {
            return; // not the id its futexes of the object were named by: nothing else changes
        }
        for (Map.Entry<Integer, MemoryObject> e : s.objects.entrySet()) { // the first id left, as the pager names it
            work++;
            if (e.getValue().name().equals(object)) {
                p.namedBy.put(object, e.getKey());
                return;
            }
        }
        p.namedBy.remove(object);
    }

    /** The session goes on on the stream it now has ({@code s.id}), no longer on {@code oldStream}. */
    void moved(KernelSession s, long oldStream) {
        if (!on || s.published == null) {
            return;
        }
        byStream.remove(oldStream, s.published);
        s.published.streamId = s.id;
        byStream.put(s.id, s.published);
    }

    /** The session is no longer open: its object ids go (what it held was released before or after). */
    void gone(KernelSession s) {
        if (on && s.published != null) {
            byStream.remove(s.published.streamId, s.published);
        }
    }

    /** Everything again from the core's state (first published, or a snapshot restored). */
    void rebuild(Collection<KernelSession> sessions, Collection<FutexRecord> futexes) {
        if (!on) {
            return;
        }
        holders.clear();
        byStream.clear();
        for (KernelSession s : sessions) {
            s.published = null;
            session(s);
            for (Integer id : s.objects.keySet()) { // in the order initialized: the first names each object
                initialized(s, id);
            }
        }
        for (FutexRecord f : futexes) {
            held(f);
        }
    }

    private Session session(KernelSession s) {
        if (s.published == null) {
            s.published = new Session(s.id, s.features.contains(FEATURE));
            byStream.put(s.id, s.published);
        }
        return s.published;
    }
}
