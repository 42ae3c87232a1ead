package server

import "github.com/ofb-go/pixauto/pixauto/server/serverstore"

// The server's records and Store are defined in package serverstore; these
// aliases keep their names here.
type (
	Receiver        = serverstore.Receiver
	APIKey          = serverstore.APIKey
	Subscription    = serverstore.Subscription
	DeliveryStatus  = serverstore.DeliveryStatus
	Delivery        = serverstore.Delivery
	DeliveryAttempt = serverstore.DeliveryAttempt
	DeliveryFilter  = serverstore.DeliveryFilter
	Store           = serverstore.Store
)

// Delivery statuses.
const (
	DeliveryPending   = serverstore.DeliveryPending
	DeliveryDelivered = serverstore.DeliveryDelivered
	DeliveryFailed    = serverstore.DeliveryFailed
	DeliveryCancelled = serverstore.DeliveryCancelled
)
