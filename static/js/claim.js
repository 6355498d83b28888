// A personal QR code was claimed: keep the identity as the phone page does (static/js/phone.js), then open the event.
import { readJSON } from "./page.js";

const claim = readJSON("rouages-claim");
const key = (name) => `rouages.${name}.${claim.slug}`;
try {
  localStorage.setItem(key("token"), claim.token);
  localStorage.setItem(key("name"), claim.name || "");
  localStorage.setItem(key("organisation"), claim.organisation || "");
} catch {
  // Storage refused (a private window): the cookie the server set keeps the identity.
}
location.replace(claim.next);
