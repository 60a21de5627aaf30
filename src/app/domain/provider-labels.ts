/** How a provider's calls are named to people (chat replies, cards); each provider module has one. */
export interface ProviderLabels {
  /** The backend in /status: "Teams calls", "Twilio". */
  product: string;
  /** Its calls, as in "That isn't possible with Twilio conferences": "Teams calls", "Twilio conferences". */
  calls: string;
  /** One named call that could not be found: "Twilio conference". */
  callNoun: string;
  /**
   * The call inside a sentence, Markdown allowed ("this meeting's call",
   * "the phone conference **Standup**"); `escape` escapes Markdown in names.
   */
  callInSentence(call: { callName?: string }, escape: (text: string) => string): string;
  /** The call as a card fact value ("Teams meeting call", "Twilio: Standup"). */
  callFact(call: { callName?: string; callId: string }): string;
}
