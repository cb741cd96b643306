package io.machxp.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The demo's judgement of overlapping critical sections ({@link SectionCheck}). */
class SectionCheckTest {
    @Test
    void aSecondOwnerNotToldOwnerDiedIsAViolation() {
        SectionCheck check = new SectionCheck(2);
        SectionCheck.Section first = check.enter(0, false);
        check.enter(0, false);
        assertThat(check.violations()).isEqualTo(1);
        assertThat(check.overtaken()).isZero();
        check.leave(first);
        check.enter(1, false); // another futex: no overlap
        assertThat(check.violations()).isEqualTo(1);
    }

    @Test
    void anOwnerToldOwnerDiedOvertakesTheDeadOwnersSectionWithoutAViolation() {
        SectionCheck check = new SectionCheck(1);
        SectionCheck.Section dead = check.enter(0, false); // a worker whose kernel crashes while it is inside
        SectionCheck.Section next = check.enter(0, true);  // the futex passed on with OWNER_DIED
        assertThat(check.violations()).isZero();
        assertThat(check.overtaken()).isEqualTo(1);
        check.leave(next);
        SectionCheck.Section third = check.enter(0, false); // consistent again: an ordinary acquisition
        assertThat(check.violations()).as("the overtaken section no longer counts as open").isZero();
        check.leave(dead); // its call fails at last: a late leave does not close its successor's section
        check.enter(0, false);
        assertThat(check.violations()).as("the third's section was still open").isEqualTo(1);
        check.leave(third);
    }

    @Test
    void sectionsThatFollowEachOtherAreNoOverlap() {
        SectionCheck check = new SectionCheck(1);
        for (int i = 0; i < 3; i++) {
            check.leave(check.enter(0, i == 1));
        }
        assertThat(check.violations()).isZero();
        assertThat(check.overtaken()).isZero();
    }
}
