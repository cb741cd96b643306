package io.machxp.chaos;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What the workers of a chaos run do besides locking, writing and unlocking their futexes
 * ({@code machxp chaos --mix NAME}).
 *
 * <ul>
 *   <li>{@link #STANDARD}: every lock is a vm_lock_futex, every access of a counter is made under
 *       its futex, threads sleep rather than compute, and tasks die only as {@link ChaosFaults}
 *       draws them. The default: its seeds' histories are the ones docs/chaos.md and
 *       {@code PlantedBugSeeds} name.</li>
 *   <li>{@link #CONTENDED}: the same, plus what {@link ContendedWorkload} adds to reach the
 *       cores' riskier paths: trylocks (the pager's relinquish_futex(try), an awaited request
 *       under the answer deadline), racy reads and writes of pages whose futex another kernel may
 *       hold (the pager's lock_request with reply), owners killed while others wait for their
 *       futex (OWNER_DIED to a woken heir), and threads that compute on the kernel's CPU (so that
 *       an heir does not always run at once).</li>
 *   <li>{@link #HEIR_SHUTDOWN}: the contended mix, plus a kernel that shuts down at once when it
 *       says that an unlock's woken heir left before it ran while the futex's page was elsewhere
 *       ({@link StaleHeirShutdowns}): its give-back names that stale heir (xp-spec 8.4
 *       stale_heir_tid), which the pager carries to the next grant. A mix of its own, so the
 *       contended seeds' histories stay as they were: up to the first such shutdown a seed's
 *       history is its contended one.</li>
 * </ul>
 */
public enum ChaosMix {
    STANDARD,
    CONTENDED,
    HEIR_SHUTDOWN;

    /** The CLI's name: "standard", "contended", "heir-shutdown". */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Whether the mix has the contended workload ({@link ContendedWorkload}, its paths counted). */
    public boolean contended() {
        return this != STANDARD;
    }

    /** The mix a CLI name stands for; an unknown name is refused with the known ones. */
    public static ChaosMix of(String name) {
        for (ChaosMix m : values()) {
            if (m.cliName().equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("no workload mix \"" + name + "\": one of "
                + Arrays.stream(values()).map(ChaosMix::cliName).collect(Collectors.joining(", ")));
    }
}
