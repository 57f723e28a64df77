/** A VPN configuration or profile input that cannot become a valid profile. */
export class ProfileBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileBuildError';
  }
}
