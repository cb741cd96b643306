package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
 *  a grant to K                               futex -> K's session, K's object id, the grant's token,
 *                                               when its grant policy's lease is over for any priority
 *  the futex comes back (released, K gone)    its entry removed
 *  an object initialized or terminated        the session's object ids -> object names (a copy)
 *  a session moves to a resume's stream       its published stream id is the new one
 *  a session ends                             its object ids removed (its futexes were released)
 *  a snapshot restored, or first published    everything published again from the state
 *
 *  other thread                               {@link #hintFor}: the holder of the futex a session's
 *                                               object id and offset name, if it is another kernel
 *                                               whose hello named "relinquish_hint"
 * </pre>
 * What the other thread reads may be a little behind the core (it is only advice): a hint names
 * the grant it means by its token, and a kernel acts on it only if it holds the futex under that
 * grant (xp-spec 13.6), so a stale entry costs nothing but a dropped message.
 */
public final class FutexHolderMap {
    /** The name a kernel's hello gives this optional routine (kernel_hello.features). */
    public static final String FEATURE = "relinquish_hint";

    /** One session as published: the stream it is on now and its object ids, both replaced whole. */
    public static final class Session {
        private volatile long streamId;
        private volatile Map<Integer, String> objects = Map.of();
        private final boolean takesHints;

        Session(long streamId, boolean takesHints) {
            this.streamId = streamId;
            this.takesHints = takesHints;
        }

        public long streamId() {
            return streamId;
        }
    }

    /**
     * A futex's holder as published: its session, its object id for the futex's object, the
     * grant's fencing token, and from when (group clock) the grant policy's lease no longer keeps
     * it from being asked for the futex, at any priority (Long.MAX_VALUE: never early).
     */
    public record Holder(Session session, int objectId, long token, long askableFromNanos) {}

    private final ConcurrentHashMap<FutexKey, Holder> holders = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Session> byStream = new ConcurrentHashMap<>();
    /** The longest lease the core's grant policy gives a grant before it asks ({@code GrantLeases}). */
    private volatile long longestLeaseNanos = Long.MAX_VALUE;
    private final boolean on;

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
        Holder h = object == null ? null : holders.get(new FutexKey(object, offset));
        return h == null || h.session == asking || !h.session.takesHints ? null : h;
    }

    /** How many futexes are published as held (tests). */
    public int heldCount() {
        return holders.size();
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
        KernelSession s = f.holder;
        int objectId = idOf(s, f.key.object());
        if (objectId < 0) {
            holders.remove(f.key); // no id to name it by (never so for a grant): no hint
            return;
        }
        long lease = longestLeaseNanos;
        long askable = lease == Long.MAX_VALUE || f.grantedNanos > Long.MAX_VALUE - lease ? Long.MAX_VALUE
                : f.grantedNanos + lease;
        holders.put(f.key, new Holder(session(s), objectId, f.token, askable));
    }

    /** The futex came back to the pager (or is nobody's for a moment). */
    void freed(FutexKey key) {
        if (on) {
            holders.remove(key);
        }
    }

    /** The session's objects changed (an init taken, a terminate). */
    void objectsChanged(KernelSession s) {
        if (!on) {
            return;
        }
        Map<Integer, String> ids = new java.util.HashMap<>();
        s.objects.forEach((id, o) -> ids.put(id, o.name()));
        session(s).objects = Map.copyOf(ids);
        for (FutexKey key : s.held) { // a terminate of the id the pager named an object by: the next one names it
            int id = idOf(s, key.object());
            holders.computeIfPresent(key, (k, h) -> id < 0 ? null : new Holder(h.session, id, h.token, h.askableFromNanos));
        }
    }

    /** The id under which {@code s} knows the object: the first initialized, as the pager names it; -1: none. */
    private static int idOf(KernelSession s, String object) {
        for (Map.Entry<Integer, io.machxp.pager.object.MemoryObject> o : s.objects.entrySet()) {
            if (o.getValue().name().equals(object)) {
                return o.getKey();
            }
        }
        return -1;
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
            objectsChanged(s);
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
