// What the frontend writes against the generated types: if a schema the frontend relies on
// disappears or changes shape, this file stops compiling.
import type { components, paths } from "./generated/lutea-api";

type Schemas = components["schemas"];
type GuestBooking = paths["/bookings"]["post"]["responses"][201]["content"]["application/json"];
type Catalogue = paths["/retreats/public"]["get"]["responses"][200]["content"]["application/json"];
type ApiError = paths["/bookings"]["post"]["responses"][409]["content"]["application/json"];
type Intent = paths["/stripe/create-payment-intent"]["post"]["responses"][200]["content"]["application/json"];

export function firstDatePrice(catalogue: Catalogue): number | undefined {
  return catalogue[0]?.dates?.[0]?.prix;
}

export function guestProof(booking: GuestBooking): Record<string, string> {
  return booking.guestToken ? { "X-Booking-Token": booking.guestToken } : {};
}

export function reason(error: ApiError): string {
  const details = error.details?.message;
  return typeof details === "string" ? details : error.message;
}

export const paymentSecret = (intent: Intent): string => intent.clientSecret;
export const isPaid = (booking: Schemas["Booking"]): boolean => booking.statutPaiement === "PAID";
