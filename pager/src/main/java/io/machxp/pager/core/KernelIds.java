package io.machxp.pager.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel ids (1..1023) the pager gives kernel names, and their quarantine: part of the
 * pager core beside {@link PagerSessions}, core thread only. TIDs carry the id, so an id goes to
 * another name only once no futex word can still hold a TID of its last kernel.
 *
 * <h2>Overview</h2>
 * An id is, for one name at a time: NEVER USED → GIVEN (the name has a session, live or broken,
 * or a reclaim took it) → QUARANTINED when the name's last session is forgotten, for
 * {@code quarantineNanos} (a lease plus the grace period; the same name coming back meanwhile gets
 * it again, unless futex words may still carry its dead kernel's TIDs: then a new one, {@link
 * TidPrefixes#unusable}) → FREE once the quarantine is over and no futex record still carries an owner_died of
 * that kernel, or a stale heir's TID of it a release named ({@link StaleHeirs}) ({@link PagerFutexes#diedPending}); then another name may get it. New ids come first
 * from those never given out, then from the free pool, least recently freed first, so an id rests
 * as long as the pager's churn allows. At most 1023 ids are given or in quarantine at once (a name
 * back while its death is unrecorded holds a given id and has its old one resting: two ids; a
 * crash-looping name one per incarnation, until those deaths are recorded, which ids running
 * short forces, {@link DeathRecorder#recordAll}: pages taken from their writers, futexes a grantee
 * told owner_died caches asked back; deaths review LOW-1).
 * The fields are the pager's state: {@link SnapshotWriter} and {@link SnapshotReader} keep them.
 */
final class KernelIds {
    /** Kernel ids fit 10 bits: TID = kernel id << 20 | thread number (see the kernel's Tids). */
    static final int MAX_KERNEL_ID = 1023;

    private final CoreContext core;
    private final PagerFutexes futexes;
    /** Records dead kernels' owner_died in futex words when ids run short ({@link #free}). */
    private final DeathRecorder deaths;
    final Map<String, Integer> kernelIds = new HashMap<>();
    /** The name each id is given to (or quarantined for), null for a free id; index 0 unused. */
    final String[] idOwners = new String[MAX_KERNEL_ID + 1];
    /**
     * The TID prefix of the kernel each id is given to (or rests for), its last welcomed session's,
     * where it is not the id itself: a kernel whose primary is another pager states its prefix
     * (xp-spec 2.9). 0: the id is the prefix. Index 0 unused. With {@link #idOwners}, which TIDs a
     * kernel that left may have left in words ({@link #prefixesOfIds}).
     */
    final int[] idPrefixes = new int[MAX_KERNEL_ID + 1];
    /**
     * The lowest id that may never have been given out: ids below it have been given, reclaimed, or
     * passed over as another kernel's TID prefix (those wait in {@link #freeIds}).
     */
    int neverUsed = 1;
    /** Ids whose names have no session, in the order they were released: id -> when it may go. */
    final LinkedHashMap<Integer, Long> quarantine = new LinkedHashMap<>();
    /** Ids free for any name, least recently freed first. */
    final ArrayDeque<Integer> freeIds = new ArrayDeque<>();
    /**
     * How long an id rests after its name's last session is forgotten: a lease plus the grace
     * period, a lease for a pager that started without one (xp-spec 2.5).
     */
    final long quarantineNanos;

    KernelIds(CoreContext core, PagerFutexes futexes, DeathRecorder deaths, long quarantineNanos) {
        this.core = core;
        this.futexes = futexes;
        this.deaths = deaths;
        this.quarantineNanos = quarantineNanos;
    }

    /** The id this name has (given, or resting in quarantine), or null. */
    Integer of(String kernelName) {
        return kernelIds.get(kernelName);
    }

    /** The name is back within its id's quarantine: it keeps its id. */
    void back(int id) {
        quarantine.remove(id);
    }

    /** The name's last session was forgotten: its id, if it has one, rests from now on. */
    void rest(String kernelName) {
        Integer id = kernelIds.get(kernelName);
        if (id != null) {
            quarantine.remove(id); // to the end of the release order
            quarantine.put(id, core.env.nanoTime() + quarantineNanos); // the name has no session left
        }
    }

    /**
     * An id for a new name, 0 if none is left: one never given out, else the least recently freed
     * one whose quarantine is over (and that no futex's owner_died still names).
     */
    int free() {
        while (neverUsed <= MAX_KERNEL_ID) {
            int id = neverUsed++;
            if (idOwners[id] == null) {
                return id;
            }
        }
        if (freeIds.isEmpty() && dueAndHeldBack()) {
            deaths.recordAll(); // pages given back since their kernels died: the pager records those deaths now
        }
        releaseQuarantined(); // only now: until ids run short, a name that comes back keeps its id
        Integer id = freeIds.poll();
        return id == null ? 0 : id;
    }

    /**
     * An id {@link #free} returned was not given after all: the next {@code free} returns it again
     * (the last one {@code free} returned; an earlier one, passed over, goes first among the free ids).
     */
    void unfree(int id) {
        if (id == neverUsed - 1) {
            neverUsed--;
        } else {
            freeIds.addFirst(id);
        }
    }

    /** Ids whose quarantine is over go to the free pool; one a pending owner_died names rests on. */
    private void releaseQuarantined() {
        long now = core.env.nanoTime();
        int looked = quarantine.size();
        var it = quarantine.entrySet().iterator();
        List<Integer> again = new ArrayList<>();
        while (it.hasNext() && looked-- > 0) {
            var e = it.next();
            if (e.getValue() > now) {
                break; // in release order: the rest rest longer
            }
            int id = e.getKey();
            it.remove();
            if (futexes.diedPending(id)) {
                again.add(id);
                continue;
            }
            kernelIds.remove(idOwners[id], id);
            idOwners[id] = null;
            idPrefixes[id] = 0;
            freeIds.add(id);
        }
        for (int id : again) {
            quarantine.put(id, now + quarantineNanos);
        }
    }

    /** Whether an id whose quarantine is over waits only for an owner_died to be recorded. */
    private boolean dueAndHeldBack() {
        long now = core.env.nanoTime();
        for (var e : quarantine.entrySet()) {
            if (e.getValue() > now) {
                return false; // in release order: the rest rest longer
            }
            if (futexes.diedPending(e.getKey())) {
                return true;
            }
        }
        return false;
    }

    /** How many resting ids wait for an owner_died of their kernel to be recorded (ids given out are not counted). */
    int heldBackByDeaths() {
        int n = 0;
        for (int id : quarantine.keySet()) {
            n += futexes.diedPending(id) ? 1 : 0;
        }
        return n;
    }

    /** Whether a kernel of this name has an id here (given, reclaimed, or resting in quarantine). */
    boolean knows(String kernelName) {
        return kernelIds.containsKey(kernelName);
    }

    /** The name of the kernel that has this id (or whose id rests in quarantine), or null. */
    String ownerOf(int id) {
        return id < 1 || id > MAX_KERNEL_ID ? null : idOwners[id];
    }

    /**
     * After a restart (the ids the last pager gave are lost with it): a stored futex word names a
     * TID of this id, of kernel {@code kernelName} that did not reclaim ({@link RestartDeaths}). If
     * no session took the id, it rests as the name's would have, and goes to another name only once
     * its quarantine is over and the death is recorded ({@link #releaseQuarantined}); the name, if
     * it has no id here, gets it back (xp-spec 2.5).
     */
    void restsForDeath(int id, String kernelName) {
        if (id < 1 || id > MAX_KERNEL_ID || idOwners[id] != null) {
            return;
        }
        idOwners[id] = kernelName;
        idPrefixes[id] = 0; // the id is the prefix found in the word (a secondary's prefix costs an id here)
        if (!kernelName.equals(RestartDeaths.UNKNOWN)) {
            kernelIds.putIfAbsent(kernelName, id); // no name is counted for a death the journal names nobody for
        }
        freeIds.remove(id);
        quarantine.remove(id);
        quarantine.put(id, core.env.nanoTime() + quarantineNanos);
    }

    /** The id is the kernel's from now on (a new one, or a reclaimed one, which may not be free here). */
    void take(String kernelName, int id) {
        if (idOwners[id] != null && !idOwners[id].equals(kernelName)) {
            kernelIds.remove(idOwners[id], id);
        }
        if (!kernelName.equals(idOwners[id])) {
            idPrefixes[id] = 0; // another kernel's from now on: its welcome says its prefix
        }
        Integer old = kernelIds.get(kernelName);
        if (old != null && old != id) {
            quarantine.remove(old);
            quarantine.put(old, core.env.nanoTime() + quarantineNanos); // its TIDs may still be about
        }
        quarantine.remove(id);
        freeIds.remove(id); // rare: a reclaim, in grace, of an id this pager freed
        idOwners[id] = kernelName;
        kernelIds.put(kernelName, id);
    }

    /** The kernel with this id was welcomed with TID prefix {@code prefix} (its own, or the one its primary gave it). */
    void welcomed(int id, int prefix) {
        if (id >= 1 && id <= MAX_KERNEL_ID) {
            idPrefixes[id] = prefix == id ? 0 : prefix;
        }
    }

    /**
     * The TID prefixes of the kernels the ids are given to or rest for (xp-spec 2.9): the prefix a
     * kernel's TIDs carry, which is its id only where this pager is its primary. One that no open
     * session has is a kernel's that left (its id rests) or died.
     */
    java.util.Set<Integer> prefixesOfIds() {
        java.util.Set<Integer> out = new java.util.HashSet<>();
        for (int id = 1; id <= MAX_KERNEL_ID; id++) {
            if (idOwners[id] != null) {
                out.add(idPrefixes[id] == 0 ? id : idPrefixes[id]);
            }
        }
        return out;
    }

    /** How many kernel names have an id (in use or in quarantine). */
    int count() {
        return kernelIds.size();
    }

    /** How many ids rest in quarantine. */
    int quarantinedCount() {
        return quarantine.size();
    }
}
