/// Keeps only the tokens the grammar allows next (see `GrammarMatcher`). It comes first in
/// the chain, so top-k, top-p and min-p choose among allowed tokens only. The generator
/// moves the matcher past each chosen token.
public struct GrammarStep: SamplerStep {
    public let matcher: GrammarMatcher

    public init(matcher: GrammarMatcher) {
        self.matcher = matcher
    }

    public func apply(to candidates: inout TokenCandidates, history: ArraySlice<Int>) {
        let allowed = matcher.allowedTokens()
        candidates.candidates.removeAll { !allowed.contains($0.id) }
    }
}
