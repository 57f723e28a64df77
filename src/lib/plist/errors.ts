// The one error of plist decoding. Its message is always our own short words: it may reach a
// device or a CLI user, so never a dependency's text, a stack or an engine message.

export class PlistParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlistParseError';
  }
}
