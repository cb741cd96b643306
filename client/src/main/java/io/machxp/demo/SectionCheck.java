package io.machxp.demo;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The demo's check of mutual exclusion: per futex, the critical section a worker is in. A worker
 * entering a futex's section while another worker's section is still open is an overlap:
 *
 * <ul>
 *   <li>a <b>violation</b> if its acquisition was not told OWNER_DIED - two live owners at once;
 *   <li><b>overtaken</b> if it was: the futex came from an owner declared dead (its kernel crashed
 *       or lost its lease, or its task ended), and the section still open is that owner's - a
 *       worker in this process whose kernel is gone, which goes on running as a task process on a
 *       crashed host's surviving memory would, until a call fails. What it writes from then on
 *       cannot reach the object (its kernel's session is over and fenced), which is what
 *       OWNER_DIED tells the new owner; the demo's counter shows those writes as lost with owners
 *       that died, not silently. The overtaken section no longer counts as open.
 * </ul>
 *
 * Leaving closes the section only if it is still the open one, so a late leave of an overtaken
 * section never closes its successor's. Thread-safe.
 */
final class SectionCheck {
    private final AtomicReferenceArray<Section> open;
    private final LongAdder violations = new LongAdder();
    private final LongAdder overtaken = new LongAdder();

    /** One worker's stay in one futex's critical section. */
    static final class Section {
        private final int futex;

        private Section(int futex) {
            this.futex = futex;
        }
    }

    SectionCheck(int futexes) {
        this.open = new AtomicReferenceArray<>(futexes);
    }

    /** A worker entered futex {@code futex}'s section with an acquisition told OWNER_DIED or not. */
    Section enter(int futex, boolean ownerDied) {
        Section mine = new Section(futex);
        if (open.getAndSet(futex, mine) != null) {
            (ownerDied ? overtaken : violations).increment();
        }
        return mine;
    }

    /** The worker left the section (it unlocks next, or its call failed inside). */
    void leave(Section section) {
        open.compareAndSet(section.futex, section, null);
    }

    long violations() {
        return violations.sum();
    }

    long overtaken() {
        return overtaken.sum();
    }
}
