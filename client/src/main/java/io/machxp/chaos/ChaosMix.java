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
 * </ul>
 */
public enum ChaosMix {
    STANDARD,
    CONTENDED;

    /** The CLI's name: "standard", "contended". */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
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
