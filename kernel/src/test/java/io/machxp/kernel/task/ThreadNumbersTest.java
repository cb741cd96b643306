package io.machxp.kernel.task;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Thread numbers: never-given first, then freed ones cyclically, each after its quarantine. */
class ThreadNumbersTest {
    private static final long Q = 100;
    private final ThreadNumbers numbers = new ThreadNumbers(4);

    private int take(long now, Set<Integer> living, Set<Integer> named) {
        return numbers.take(now, living::contains, named::contains);
    }

    @Test
    void numbersNeverGivenGoFirstThenRestedOnesCyclically() {
        for (int n = 1; n <= 4; n++) {
            assertThat(take(0, Set.of(), Set.of())).isEqualTo(n);
        }
        numbers.ended(3, 0, Q);
        numbers.ended(1, 10, Q);
        assertThat(take(50, Set.of(2, 4), Set.of())).as("both still rest").isZero();
        assertThat(numbers.resting()).isEqualTo(2);
        assertThat(take(100, Set.of(2, 4), Set.of())).as("3 rested its quarantine; 1 not yet").isEqualTo(3);
        assertThat(numbers.resting()).isEqualTo(1);
        assertThat(take(110, Set.of(2, 3, 4), Set.of())).isEqualTo(1);
        assertThat(numbers.resting()).isZero();
    }

    @Test
    void aNumberStillNamedIsPassedOverAndAnyLivingOneToo() {
        for (int n = 1; n <= 4; n++) {
            take(0, Set.of(), Set.of());
            numbers.ended(n, 0, Q);
        }
        assertThat(take(Q, Set.of(), Set.of(1))).as("1 is still named by a word").isEqualTo(2);
        assertThat(take(Q, Set.of(2), Set.of(1))).isEqualTo(3);
        assertThat(take(Q, Set.of(2, 3), Set.of(1))).isEqualTo(4);
        assertThat(take(Q, Set.of(2, 3, 4), Set.of(1))).as("only the named one is left").isZero();
        assertThat(take(Q, Set.of(2, 3, 4), Set.of())).isEqualTo(1);
        assertThat(numbers.given(4)).isTrue();
    }

    /** Review rv58 LOW-1: a resting number's holder is told once, when its rest is over (or it rests anew). */
    @Test
    void aRestingNumbersHolderIsToldOnceItsRestIsOver() {
        List<Object> told = new ArrayList<>();
        ThreadNumbers held = new ThreadNumbers(4, told::add);
        for (int n = 1; n <= 3; n++) {
            held.take(0, x -> false, x -> false);
        }
        held.ended(1, 0, Q, "peer a");
        held.ended(2, 10, Q, null);
        held.ended(3, 20, Q, "peer b");
        held.settle(Q - 1);
        assertThat(told).as("all still rest").isEmpty();
        held.settle(Q + 10);
        assertThat(told).containsExactly("peer a", null);
        held.ended(3, 30, Q, "peer c"); // told again (be exact): the old rest's holder is told, the new one holds
        assertThat(told).containsExactly("peer a", null, "peer b");
        held.settle(30 + Q);
        assertThat(told).containsExactly("peer a", null, "peer b", "peer c");
        assertThat(held.resting()).isZero();
    }
}
