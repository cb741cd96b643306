package io.machxp.scenario;

/**
 * How a step ended.
 *
 * @param code "ok", "busy" (a trylock that did not get the futex), "EOWNERDEAD" (a lock that got
 *     a futex whose owner died), or the errno of a failure
 * @param detail the acquire path, the value read, or the error's sentence
 */
public record Outcome(String code, String detail) {
    public static Outcome ok(String detail) {
        return new Outcome("ok", detail);
    }

    public boolean failed() {
        return !code.equals("ok") && !code.equals("busy") && !code.equals("EOWNERDEAD");
    }
}
