package io.machxp.chaos;

import java.util.HashSet;
import java.util.Set;

/**
 * What the {@link HistoryChecker} knows of one futex while it reads a history: its owner, the
 * deaths since its last acquisition that require or allow OWNER_DIED, the last write acknowledged
 * under it, and its fencing token. An acquisition clears the deaths and sets the owner; a release,
 * an owner's death or a fence clears the owner.
 */
final class FutexState {
    String owner;
    /** An owner died holding it since the last acquisition: OWNER_DIED is required. */
    boolean requiredDeath;
    /** A kernel that may have held it died since the last acquisition: OWNER_DIED is allowed. */
    boolean possibleDeath;
    boolean acquiredAfterDeath;
    /**
     * A thread whose lock of it was pending died since the last acquisition, after the last
     * release began: it may have been the waiter an unlock handed the futex to (its woken
     * heir, here or on the kernel a grant took it to) before it ran, which dies
     * holding it as on Linux, so OWNER_DIED is allowed; it never ran under the futex, so the
     * last write stays what the next owner must read.
     */
    boolean waiterDied;
    /** The history's seq of its last RELEASE (-1: none): the release the next heir comes from. */
    long releaseSeq = -1;
    boolean lostInRestart;
    /** Until then a stopped kernel may be granted it, by the fault injector's record (0: none). */
    long grantableToStoppedUntil;
    /** A pager crashed and its last grace has not ended: whether this futex may be lost. */
    boolean atRiskInRestart;
    long expected;
    long lastToken;
    String lastKernel;
    long lastAcquiredAt;
    final Set<String> askedBy = new HashSet<>();
    /**
     * The kernels that asked for it (a lock or trylock) since its last acquisition, or whose lock
     * of it was still pending then: the pager may have granted it to any of them, which caches it
     * unowned (a waiter granted after its kernel stopped, a timed lock answered ETIMEDOUT whose
     * request stays at the pager, a trylock that asked the pager).
     */
    final Set<String> askedSinceAcquired = new HashSet<>();
}
