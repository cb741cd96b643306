package io.machxp.kernel.task;

import java.util.Arrays;

/**
 * The futex grants of one thread that an undo may still name, one per futex (by address): a
 * thread's grant of one futex never hides its grant of another, so an undo of a given-up lock
 * finds the grant it names whatever the thread locked since (a fast-path grant of another futex
 * between a grant and its queued undo, or a lock of another futex the client made after it gave
 * up on one). A new grant of the same address replaces the old one (the old one was unlocked, or
 * undone, before the futex could be granted again). A plain unlock through the kernel forgets the
 * address's grant; one in shared memory (the task's own CAS) does not reach the kernel, and its
 * grant is forgotten at the address's next grant or at the bound below.
 *
 * <p>Bound: {@link #MAX} grants (a thread holds few futexes at a time). A grant beyond it forgets
 * the thread's oldest recorded grant: an undo naming that one then answers EPERM and changes
 * nothing, so the futex stays the thread's until it unlocks it or the thread or task ends, which
 * is what every undo that fails leaves (task.proto). Only a thread granted {@value #MAX} other
 * futexes, none unlocked through the kernel, between a grant and its undo meets it.
 *
 * <p>Written by the core (its grants, undos, unlocks) and by the task service's fast path on a
 * transport thread (after its CAS): every method holds this object's lock, a few dozen
 * instructions at most.
 */
public final class ThreadGrants {
    /** At most this many grants are kept per thread; a grant beyond it forgets the oldest. */
    public static final int MAX = 64;
    private static final FutexGrant[] NONE = {};
    private FutexGrant[] grants = NONE;
    private int size;

    /** Records {@code grant}, replacing the grant of its address; beyond {@link #MAX}, the oldest goes. */
    public synchronized void record(FutexGrant grant) {
        int i = indexOf(grant.address());
        if (i >= 0) {
            grants[i] = grant;
            return;
        }
        if (size == MAX) {
            remove(oldest());
        }
        if (size == grants.length) {
            grants = Arrays.copyOf(grants, Math.min(MAX, Math.max(4, size * 2)));
        }
        grants[size++] = grant;
    }

    /** The recorded grant of the futex at {@code address}, or null. */
    public synchronized FutexGrant of(long address) {
        int i = indexOf(address);
        return i < 0 ? null : grants[i];
    }

    /** Whether {@code grant} is still the recorded grant of its futex. */
    public synchronized boolean holds(FutexGrant grant) {
        int i = indexOf(grant.address());
        return i >= 0 && grants[i] == grant;
    }

    /**
     * Uses {@code grant} up (its undo ran): a second undo naming it changes nothing. Returns
     * whether it was still recorded.
     */
    public synchronized boolean useUp(FutexGrant grant) {
        int i = indexOf(grant.address());
        if (i < 0 || grants[i] != grant) {
            return false;
        }
        remove(i);
        return true;
    }

    /** Forgets the grant of the futex at {@code address} (the thread unlocked it). */
    public synchronized void forget(long address) {
        int i = indexOf(address);
        if (i >= 0) {
            remove(i);
        }
    }

    /** How many grants are recorded. */
    public synchronized int size() {
        return size;
    }

    private int indexOf(long address) {
        for (int i = 0; i < size; i++) {
            if (grants[i].address() == address) {
                return i;
            }
        }
        return -1;
    }

    private int oldest() {
        int o = 0;
        for (int i = 1; i < size; i++) {
            if (grants[i].number() < grants[o].number()) {
                o = i;
            }
        }
        return o;
    }

    private void remove(int i) {
        grants[i] = grants[--size];
        grants[size] = null;
    }
}
